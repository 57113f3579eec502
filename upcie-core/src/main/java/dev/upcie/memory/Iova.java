package dev.upcie.memory;

/**
 * An I/O virtual address: what a device behind an IOMMU uses, mapped to host memory with {@code
 * VFIO_IOMMU_MAP_DMA}.
 *
 * @param value the address
 */
public record Iova(long value) implements DeviceAddress {

  @Override
  public Iova plus(long offset) {
    return new Iova(value + offset);
  }

  /** {@code iova:0x100000}. */
  @Override
  public String toString() {
    return "iova:0x" + Long.toHexString(value);
  }
}
