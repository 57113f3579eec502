package dev.upcie.sim;

import dev.upcie.backend.Availability;
import dev.upcie.backend.DeviceBackend;
import dev.upcie.host.Host;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.UpcieException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The {@code sim} backend: functions of a simulated machine, opened as the vfio backend opens real
 * ones, with their device models behind them.
 *
 * <p>As on a real machine, the function must be bound to {@code vfio-pci} in the simulated sysfs,
 * its IOMMU group must be viable (every function in it on {@code vfio-pci} or on no driver) and its
 * group node must exist; a test that passes here then meets the same checks on QEMU. Given a {@link
 * SimMachine} as the host, it opens that machine's functions, so a tool pointed at a simulated
 * machine resolves and opens on the same one. It never touches a real host: given one (this
 * machine, a recorded tree) it serves a fresh {@link SimMachine#qemuQ35Vfio()} instead, and its
 * probe says so by naming that machine as the function's host: that is what lets {@code auto} fall
 * back to the simulator where no real device is bound.
 */
public final class SimBackend implements DeviceBackend {
  /** The backend's name. */
  public static final String NAME = "sim";

  /**
   * The driver a function must be bound to in the simulated machine, as for the vfio backend. The
   * host's kernel needs none: {@link #driver()} is empty.
   */
  public static final String DRIVER = "vfio-pci";

  /** For {@link java.util.ServiceLoader}. */
  public SimBackend() {}

  @Override
  public String name() {
    return NAME;
  }

  /** None: the simulator needs nothing of the host's kernel. */
  @Override
  public Optional<String> driver() {
    return Optional.empty();
  }

  /** The simulated machine's {@code vfio-pci}: its functions are opened as VFIO opens them. */
  @Override
  public Optional<String> driverOn(Host host) {
    return Optional.of(DRIVER);
  }

  /** After every real backend. */
  @Override
  public int preference() {
    return 100;
  }

  /** A fresh simulated QEMU q35 machine, its NVMe controller and {@code edu} on vfio-pci. */
  @Override
  public Host defaultHost() {
    return SimMachine.qemuQ35Vfio();
  }

  @Override
  public Availability probe(PciSelector selector, Host host) {
    SimMachine machine = machine(host);
    try {
      return new Availability.Available(find(selector, machine), machine);
    } catch (UpcieException e) {
      return new Availability.Unavailable(e);
    }
  }

  @Override
  public PciDeviceHandle open(PciSelector selector, Host host) {
    SimMachine machine = machine(host);
    return machine.open(find(selector, machine));
  }

  /**
   * The function {@code selector} means, checked as the vfio backend checks it. The bus is read
   * once, for the selection and the group together: each read is a dozen files per function, and a
   * test that takes a fresh machine pays for it twice (probe, then open).
   */
  private static PciFunction find(PciSelector selector, SimMachine machine) {
    PciBus bus = machine.bus();
    // A selector that names an address (what the open after a probe passes) reads that function
    // and its group's; any other reads the bus once, for the selection and the group together.
    Optional<PciFunction> named =
        selector
            .address()
            .flatMap(bus::find)
            .filter(f -> selector.matches(f) && f.isBoundTo(DRIVER));
    List<PciFunction> all = named.isPresent() ? List.of() : bus.functions();
    // What selectBound returns (the first match by address that is bound to DRIVER); when there is
    // none it is asked anyway, for its message listing the candidates.
    PciFunction function =
        named.orElseGet(() ->
            all.stream()
                .filter(f -> selector.matches(f) && f.isBoundTo(DRIVER))
                .findFirst()
                .orElseGet(() -> bus.selectBound(selector, DRIVER)));
    if (function.iommuGroup().isEmpty()) {
      throw new PciException(
          function.address()
              + " has no IOMMU group: the simulated machine has no IOMMU, and the sim backend"
              + " opens functions as vfio does");
    }
    int group = function.iommuGroup().getAsInt();
    List<PciFunction> members =
        named.isPresent() ? bus.iommuGroupMembers(group).stream().map(bus::function).toList() : all;
    List<String> blocking = new ArrayList<>();
    for (PciFunction member : members) {
      if (member.iommuGroup().equals(function.iommuGroup())
          && member.driver().filter(d -> !d.equals(DRIVER)).isPresent()) {
        blocking.add(member.address() + " (bound to " + member.driver().get() + ")");
      }
    }
    if (!blocking.isEmpty()) {
      throw new PciException(
          "IOMMU group "
              + group
              + " of "
              + function.address()
              + " is not viable: "
              + String.join(", ", blocking)
              + " must be bound to vfio-pci or unbound too");
    }
    if (!Files.exists(machine.dev().resolve("vfio/" + group))) {
      throw new PciException(
          machine.dev().resolve("vfio/" + group) + " does not exist on " + machine);
    }
    if (!machine.hasModel(function.address())) {
      throw new UpcieException(
          "the simulator has no device model behind "
              + function.summary()
              + "; it simulates QEMU's NVMe controller and edu, and the models you add");
    }
    return function;
  }

  private static SimMachine machine(Host host) {
    return host instanceof SimMachine machine ? machine : SimMachine.qemuQ35Vfio();
  }
}
