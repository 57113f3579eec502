package dev.upcie.pci;

import java.util.Optional;

/**
 * Which driver a function had, and its {@code driver_override}: what {@link
 * PciDriverBinder#restore} puts back.
 *
 * @param address the function
 * @param driver the driver it was bound to, empty if none
 * @param driverOverride its {@code driver_override}, empty if unset
 */
public record PciBinding(
    PciAddress address, Optional<String> driver, Optional<String> driverOverride) {

  /** The binding {@code function} has now. */
  public static PciBinding of(PciFunction function) {
    return new PciBinding(function.address(), function.driver(), function.driverOverride());
  }

  /** {@code 0000:00:04.0 on nvme} or {@code 0000:00:04.0 with no driver}. */
  @Override
  public String toString() {
    return address + driver.map(d -> " on " + d).orElse(" with no driver");
  }
}
