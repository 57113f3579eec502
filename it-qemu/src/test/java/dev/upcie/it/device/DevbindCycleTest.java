package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.host.Host;
import dev.upcie.pci.BindOptions;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.FunctionNode;
import dev.upcie.pci.FunctionNodes;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The NVMe controller and {@code edu} moved through every driver and back by the binder, with the
 * kernel's view checked after each step: the {@code driver} link, {@code driver_override}, the
 * device node the driver made, and (in the guests) what {@code lspci -k} says. It runs where {@link
 * KernelSysfsTest} does: on the host on the simulated machines bound as each guest binds them; in
 * each guest, on its real kernel.
 *
 * <p>The vfio guest goes nvme → vfio-pci → uio_pci_generic → nvme ({@code uio_pci_generic} is not
 * loaded there, so the binder's modprobe runs too); the uio guest has no IOMMU, so it skips
 * vfio-pci. Each test puts the function back where it found it, journaled.
 */
public class DevbindCycleTest {
  private static final PciId NVME = PciId.parse("1b36:0010");
  private static final PciId EDU = PciId.parse("1234:11e8");

  /** vfio-pci takes part where the machine has an IOMMU: the vfio guest, and the simulated one. */
  private static boolean hasIommu(String machine) {
    return !machine.contains("uio");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.upcie.it.device.KernelSysfsTest#machines")
  void theNvmeControllerGoesThroughEveryDriverAndBack(String machine, Host host) throws Exception {
    PciAddress nvme = only(host, NVME);
    List<String> cycle =
        hasIommu(machine)
            ? List.of("nvme", "vfio-pci", "uio_pci_generic", "nvme")
            : List.of("nvme", "uio_pci_generic", "nvme");

    goesThrough(host, nvme, cycle);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.upcie.it.device.KernelSysfsTest#machines")
  void eduGoesThroughEveryDriverAndBack(String machine, Host host) throws Exception {
    PciAddress edu = only(host, EDU);
    List<String> cycle =
        hasIommu(machine)
            ? List.of("", "vfio-pci", "uio_pci_generic", "")
            : List.of("", "uio_pci_generic", "");

    goesThrough(host, edu, cycle);
  }

  /** Moves {@code address} to each driver in turn ("" unbinds), then back to where it was. */
  private static void goesThrough(Host host, PciAddress address, List<String> drivers)
      throws Exception {
    PciDriverBinder binder = new PciDriverBinder(host);
    BindingJournal journal = BindingJournal.of(host);
    PciBinding start = PciBinding.of(host.bus().function(address));
    try {
      for (String driver : drivers) {
        if (driver.isEmpty()) {
          binder.unbind(address, BindOptions.defaults(), journal);
        } else {
          binder.bind(address, driver, BindOptions.defaults(), journal);
        }
        kernelShows(host, address, driver);
      }
    } finally {
      binder.restore(journal.entry(address).map(BindingJournal.Entry::original).orElse(start));
      journal.forget(address);
    }
    assertThat(PciBinding.of(host.bus().function(address))).isEqualTo(start);
    assertThat(journal.entry(address)).isEmpty();
  }

  /** What the kernel shows of {@code address} on {@code driver} ("" for none). */
  private static void kernelShows(Host host, PciAddress address, String driver) throws Exception {
    PciFunction now = host.bus().function(address);
    String step = driver.isEmpty() ? "after unbinding" : "on " + driver;
    assertThat(now.driver()).as("driver link %s", step).isEqualTo(nonEmpty(driver));
    List<FunctionNode> nodes = FunctionNodes.of(host.sysfs(), now);
    FunctionNode.Kind expected =
        switch (driver) {
          case "nvme" -> FunctionNode.Kind.NVME_CONTROLLER;
          case "vfio-pci" -> FunctionNode.Kind.VFIO_GROUP;
          case "uio_pci_generic" -> FunctionNode.Kind.UIO;
          default -> null;
        };
    if (expected == null) {
      assertThat(nodes).as("no driver, no nodes").isEmpty();
    } else {
      FunctionNode node =
          nodes.stream()
              .filter(n -> n.kind() == expected)
              .findFirst()
              .orElseThrow(() -> new AssertionError("no " + expected + " node " + step));
      assertThat(host.dev().resolve(node.name().substring("/dev/".length())))
          .as("%s %s", node.name(), step)
          .exists();
    }
    if (host.isReal()) {
      assertThat(lspciDriver(address)).as("lspci -k %s", step).isEqualTo(nonEmpty(driver));
    }
  }

  /** The "Kernel driver in use" line of {@code lspci -k -s ADDRESS}, as the peer sees it. */
  private static Optional<String> lspciDriver(PciAddress address)
      throws IOException, InterruptedException {
    Process lspci = new ProcessBuilder("lspci", "-k", "-s", address.toString()).start();
    String out = new String(lspci.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(lspci.waitFor()).as("lspci -k -s %s: %s", address, out).isZero();
    return out.lines()
        .map(String::strip)
        .filter(l -> l.startsWith("Kernel driver in use:"))
        .map(l -> l.substring("Kernel driver in use:".length()).strip())
        .findFirst();
  }

  private static Optional<String> nonEmpty(String driver) {
    return driver.isEmpty() ? Optional.empty() : Optional.of(driver);
  }

  static PciAddress only(Host host, PciId id) {
    List<PciFunction> matches = new ArrayList<>(host.bus().select(PciSelector.any().withId(id)));
    assertThat(matches).as("functions %s", id).hasSize(1);
    return matches.getFirst().address();
  }
}
