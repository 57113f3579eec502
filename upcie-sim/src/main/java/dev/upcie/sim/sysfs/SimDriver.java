package dev.upcie.sim.sysfs;

import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import java.util.List;

/**
 * A PCI driver of the simulated kernel: its name and the functions its id table claims.
 *
 * <p>A driver with no id table ({@code vfio-pci}, {@code uio_pci_generic}) binds only what {@code
 * driver_override} or {@code new_id} hands it, as on Linux.
 *
 * @param name the driver's name, as under {@code /sys/bus/pci/drivers}
 * @param idTable the functions it claims on its own, one selector per entry; empty for
 *     override-only drivers
 */
public record SimDriver(String name, List<PciSelector> idTable) {

  /** Copies the table. */
  public SimDriver {
    idTable = List.copyOf(idTable);
  }

  /** A driver that claims the functions {@code idTable} matches. */
  public static SimDriver claiming(String name, PciSelector... idTable) {
    if (idTable.length == 0) {
      throw new IllegalArgumentException(name + ": a claiming driver needs an id table entry");
    }
    return new SimDriver(name, List.of(idTable));
  }

  /** A driver that binds only through {@code driver_override} or {@code new_id}. */
  public static SimDriver overrideOnly(String name) {
    return new SimDriver(name, List.of());
  }

  /** True if the driver has no id table of its own. */
  public boolean isOverrideOnly() {
    return idTable.isEmpty();
  }

  /** True if an entry of the id table matches {@code function}. */
  boolean claims(PciFunction function) {
    return idTable.stream().anyMatch(entry -> entry.matches(function));
  }
}
