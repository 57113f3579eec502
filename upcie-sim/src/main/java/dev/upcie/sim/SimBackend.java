package dev.upcie.sim;

import dev.upcie.backend.Availability;
import dev.upcie.backend.DeviceBackend;
import dev.upcie.host.Host;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.UpcieException;
import java.util.Optional;

/**
 * The {@code sim} backend: functions of a simulated machine, with their device models.
 *
 * <p>Given a {@link SimMachine} as the host, it opens that machine's functions, so a tool pointed
 * at a simulated machine resolves and opens on the same one. It never touches a real host: given
 * one (this machine, a recorded tree) it serves a fresh {@link SimMachine#qemuQ35()} instead, and
 * its probe says so by naming that machine as the function's host: that is what lets {@code auto}
 * fall back to the simulator where no real device is bound.
 *
 * <p>Among several matching functions it prefers one bound to {@code vfio-pci}, as the vfio backend
 * would find it, then the first by address.
 */
public final class SimBackend implements DeviceBackend {
  /** The backend's name. */
  public static final String NAME = "sim";

  /** For {@link java.util.ServiceLoader}. */
  public SimBackend() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Optional<String> driver() {
    return Optional.empty();
  }

  /** A fresh simulated QEMU q35 machine. */
  @Override
  public Host defaultHost() {
    return SimMachine.qemuQ35();
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
    return machine.open(find(selector, machine).address());
  }

  private static PciFunction find(PciSelector selector, SimMachine machine) {
    PciFunction function = machine.bus().selectOne(selector, "vfio-pci");
    if (!machine.hasModel(function.address())) {
      throw new UpcieException(
          "the simulator has no device model behind "
              + function.summary()
              + " yet; it simulates QEMU's NVMe controller");
    }
    return function;
  }

  private static SimMachine machine(Host host) {
    return host instanceof SimMachine machine ? machine : SimMachine.qemuQ35();
  }
}
