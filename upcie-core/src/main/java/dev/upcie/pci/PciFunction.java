package dev.upcie.pci;

import java.util.Optional;
import java.util.OptionalInt;

/**
 * What sysfs says about one PCI function: identity, class, driver and topology.
 *
 * <p>A snapshot: it does not change when the function is later bound elsewhere; scan again with
 * {@link PciBus} for fresh facts.
 *
 * @param address where the function is
 * @param id vendor and device id
 * @param subsystem subsystem vendor and device id
 * @param classCode the 24-bit class code
 * @param revision the revision id
 * @param driver the bound driver's name, empty if none
 * @param driverOverride the {@code driver_override} value, empty if unset
 * @param iommuGroup the IOMMU group number, empty when the kernel runs without an IOMMU
 * @param numaNode the NUMA node, empty when the platform reports none ({@code -1})
 */
public record PciFunction(
    PciAddress address,
    PciId id,
    PciId subsystem,
    PciClassCode classCode,
    int revision,
    Optional<String> driver,
    Optional<String> driverOverride,
    OptionalInt iommuGroup,
    OptionalInt numaNode) {

  /** True if the function is bound to {@code name}. */
  public boolean isBoundTo(String name) {
    return driver.filter(name::equals).isPresent();
  }

  /** {@code 0000:00:04.0 1b36:0010 NVMe controller}. */
  public String summary() {
    return address + " " + id + " " + classCode.describe();
  }
}
