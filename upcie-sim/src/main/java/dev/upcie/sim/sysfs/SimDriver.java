package dev.upcie.sim.sysfs;

import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import java.util.Optional;

/**
 * A PCI driver of the simulated kernel: its name and the functions its id table claims.
 *
 * <p>A driver with no id table ({@code vfio-pci}, {@code uio_pci_generic}) binds only what {@code
 * driver_override} hands it, as on Linux.
 *
 * @param name the driver's name, as under {@code /sys/bus/pci/drivers}
 * @param idTable the functions it claims on its own, empty for override-only drivers
 */
public record SimDriver(String name, Optional<PciSelector> idTable) {

  /** A driver that claims the functions {@code idTable} matches. */
  public static SimDriver claiming(String name, PciSelector idTable) {
    return new SimDriver(name, Optional.of(idTable));
  }

  /** A driver that binds only through {@code driver_override}, like {@code vfio-pci}. */
  public static SimDriver overrideOnly(String name) {
    return new SimDriver(name, Optional.empty());
  }

  /**
   * The kernel's {@code pci_match_device}: an override names the only driver that may bind; without
   * one, the id table decides.
   */
  boolean matches(PciFunction function) {
    if (function.driverOverride().isPresent()) {
      return function.driverOverride().get().equals(name);
    }
    return idTable.map(table -> table.matches(function)).orElse(false);
  }

  /**
   * Whether the driver's probe accepts a function it matched: a driver with an id table rejects
   * hardware it does not know (a function forced on it through {@code driver_override}), leaving
   * the function unbound; override-only drivers accept anything.
   */
  boolean accepts(PciFunction function) {
    return idTable.map(table -> table.matches(function)).orElse(true);
  }
}
