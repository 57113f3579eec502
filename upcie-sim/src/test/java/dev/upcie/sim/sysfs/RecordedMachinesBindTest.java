package dev.upcie.sim.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.upcie.errno.Errno;
import dev.upcie.pci.BindCheck;
import dev.upcie.pci.BindOptions;
import dev.upcie.pci.BindRefusedException;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.FunctionNode;
import dev.upcie.pci.FunctionNodes;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.sim.SimMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Injected kernel failures on machines built from real recorded trees: for every function a kernel
 * driver holds, a bind that fails, an unbind that hangs, and a device in use each leave every
 * function of the machine bound as it was (or, for the hang, exactly where it was sent).
 */
class RecordedMachinesBindTest {
  private static final Path RECORDINGS = Path.of("src/test/resources/sysfs");

  static Stream<Path> recordings() throws Exception {
    try (Stream<Path> files = Files.list(RECORDINGS)) {
      return files.filter(f -> f.toString().endsWith(".umockdev")).sorted().toList().stream();
    }
  }

  /** The recordings whose functions have device nodes: the q35 guests' NVMe, edu and VFIO. */
  static Stream<Path> recordingsWithNodes() {
    return Stream.of("qemu-q35-iommu-nvme-edu", "qemu-q35-iommu-vfio")
        .map(name -> RECORDINGS.resolve(name + ".umockdev"));
  }

  private static List<PciBinding> bindings(SimMachine machine) {
    return machine.bus().functions().stream().map(PciBinding::of).toList();
  }

  private static List<PciFunction> onKernelDrivers(SimMachine machine) {
    return machine.bus().functions().stream()
        .filter(f -> f.driver().filter(d -> !FunctionNodes.isUserSpace(d)).isPresent())
        .toList();
  }

  @ParameterizedTest
  @MethodSource("recordings")
  void aBindThatFailsPutsEveryFunctionBack(Path recording) {
    try (SimMachine machine = SimMachine.fromRecording(recording)) {
      assertThat(onKernelDrivers(machine)).as("something to move").isNotEmpty();
      for (PciFunction function : onKernelDrivers(machine)) {
        List<PciBinding> before = bindings(machine);
        BindingJournal journal = BindingJournal.of(machine);
        machine.sysfs().faults().failNextBind(function.address(), Errno.ENOMEM);

        assertThatThrownBy(() ->
                new PciDriverBinder(machine)
                    .bind(
                        function.address(),
                        "vfio-pci",
                        BindOptions.defaults().withProbeAttempts(1),
                        journal))
            .isInstanceOf(PciException.class)
            .hasMessageEndingWith("restored " + PciBinding.of(function));

        assertThat(bindings(machine)).isEqualTo(before);
        assertThat(journal.entries()).isEmpty();
      }
    }
  }

  @ParameterizedTest
  @MethodSource("recordings")
  void anUnbindThatHangsEndsWhereItWasSentAndRestoreBringsItBack(Path recording) {
    try (SimMachine machine = SimMachine.fromRecording(recording)) {
      for (PciFunction function : onKernelDrivers(machine)) {
        List<PciBinding> before = bindings(machine);
        BindingJournal journal = BindingJournal.of(machine);
        SysfsFaults.Hang hang = machine.sysfs().faults().hangNextUnbind(function.address());
        BindOptions options = BindOptions.defaults().withUnbindTimeout(Duration.ofMillis(100));

        assertThatThrownBy(() ->
                new PciDriverBinder(machine)
                    .bind(function.address(), "uio_pci_generic", options, journal))
            .isInstanceOf(PciException.class)
            .hasMessageContaining("did not finish within 100 ms");
        hang.release();
        await()
            .until(() -> machine.bus().function(function.address()).isBoundTo("uio_pci_generic"));

        new PciDriverBinder(machine)
            .restore(journal.entry(function.address()).orElseThrow().original(), journal);
        assertThat(bindings(machine)).isEqualTo(before);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("recordingsWithNodes")
  void aFunctionWhoseNodeIsOpenIsRefusedAndNothingChanges(Path recording) throws Exception {
    try (SimMachine machine = SimMachine.fromRecording(recording)) {
      // Every node of every function, held by one process: what a running VM or driver does.
      Path proc = machine.procfs().root().resolve("4242");
      Files.createDirectories(proc.resolve("fd"));
      Files.writeString(proc.resolve("comm"), "qemu\n");
      int fd = 3;
      int held = 0;
      for (PciFunction function : machine.bus().functions()) {
        for (FunctionNode node : FunctionNodes.of(machine.sysfs(), function)) {
          Files.createSymbolicLink(
              proc.resolve("fd/" + fd++), proc.getFileSystem().getPath(node.name()));
        }
      }
      for (PciFunction function : machine.bus().functions()) {
        if (FunctionNodes.of(machine.sysfs(), function).isEmpty()) {
          continue;
        }
        held++;
        String target = function.isBoundTo("vfio-pci") ? "uio_pci_generic" : "vfio-pci";
        List<PciBinding> before = bindings(machine);

        assertThatThrownBy(() -> new PciDriverBinder(machine).bind(function.address(), target))
            .isInstanceOf(BindRefusedException.class)
            .satisfies(e ->
                assertThat(((BindRefusedException) e).refusals())
                    .extracting(r -> r.check())
                    .containsOnly(BindCheck.OPEN));
        assertThat(bindings(machine)).isEqualTo(before);
      }
      assertThat(held).as("functions with nodes in %s", recording).isPositive();
    }
  }
}
