package dev.upcie.sim;

import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.vfio.VfioPciDevice;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * Where a device comes from: the simulator, or the machine's own through VFIO. The one place that
 * decides, for the JUnit extension and the command line alike.
 *
 * <pre>{@code
 * Backend backend = Backend.parse(System.getProperty("upcie.backend", "sim"), "upcie.backend");
 * PciSelector nvme = PciSelector.any().withClass(PciClassCode.NVME);
 * try (PciDeviceHandle device =
 *     backend.resolve(nvme, Sysfs.system()).open(nvme, Sysfs.system(), SimMachine::qemuQ35)) {
 *   ...
 * }
 * }</pre>
 */
public enum Backend {
  /** A function of a simulated machine. */
  SIM,
  /** The machine's own function, bound to vfio-pci, opened through VFIO. */
  VFIO,
  /** {@link #VFIO} where a matching function is bound to vfio-pci, else {@link #SIM}. */
  AUTO;

  /**
   * Parses {@code sim}, {@code vfio} or {@code auto}, in any case.
   *
   * @param source where the text came from, such as {@code upcie.backend}, for the message
   * @throws UpcieException naming the setting and the choices
   */
  public static Backend parse(String text, String source) {
    try {
      return valueOf(text.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new UpcieException(source + "=" + text + " is not a backend: use sim, vfio or auto");
    }
  }

  /**
   * The concrete backend for {@code selector}: {@link #AUTO} becomes {@link #VFIO} if {@code sysfs}
   * has a matching function bound to vfio-pci, else {@link #SIM}; the others stay.
   */
  public Backend resolve(PciSelector selector, Sysfs sysfs) {
    if (this != AUTO) {
      return this;
    }
    if (!sysfs.exists(PciBus.DEVICES)) {
      return SIM;
    }
    boolean bound =
        new PciBus(sysfs)
            .select(selector).stream().anyMatch(f -> f.isBoundTo(VfioPciDevice.DRIVER));
    return bound ? VFIO : SIM;
  }

  /**
   * Opens the function {@code selector} means on this backend.
   *
   * @param sysfs where VFIO looks functions up
   * @param machine the simulated machine, asked for only on {@link #SIM}
   * @throws IllegalStateException on {@link #AUTO}: {@link #resolve} it first
   * @throws UpcieException if no function matches or it cannot be opened
   */
  public PciDeviceHandle open(PciSelector selector, Sysfs sysfs, Supplier<SimMachine> machine) {
    return switch (this) {
      case SIM -> {
        SimMachine sim = machine.get();
        yield sim.open(sim.bus().selectOne(selector, VfioPciDevice.DRIVER).address());
      }
      case VFIO ->
          VfioPciDevice.open(
              sysfs, new PciBus(sysfs).selectBound(selector, VfioPciDevice.DRIVER).address());
      case AUTO -> throw new IllegalStateException("resolve AUTO to SIM or VFIO before opening");
    };
  }

  /** {@code sim}, {@code vfio} or {@code auto}. */
  @Override
  public String toString() {
    return name().toLowerCase(Locale.ROOT);
  }
}
