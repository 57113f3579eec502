package dev.upcie.memory;

/**
 * An address a device uses to reach host memory: a {@link PhysicalAddress} (no IOMMU: UIO) or an
 * {@link Iova} (through the IOMMU: VFIO). Never a bare {@code long}, so one cannot be passed where
 * the other, or a virtual address, belongs.
 */
public sealed interface DeviceAddress permits PhysicalAddress, Iova {

  /** The address value, as the device is given it (in a PRP entry, a queue base register...). */
  long value();

  /** This address plus {@code offset} bytes, of the same kind. */
  DeviceAddress plus(long offset);
}
