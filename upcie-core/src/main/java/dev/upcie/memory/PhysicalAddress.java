package dev.upcie.memory;

/**
 * A host physical address, what a device without an IOMMU in between uses.
 *
 * @param value the address
 */
public record PhysicalAddress(long value) implements DeviceAddress {

  @Override
  public PhysicalAddress plus(long offset) {
    return new PhysicalAddress(value + offset);
  }

  /** {@code phys:0x1a2b3c000}. */
  @Override
  public String toString() {
    return "phys:0x" + Long.toHexString(value);
  }
}
