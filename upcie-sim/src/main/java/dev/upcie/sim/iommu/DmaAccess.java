package dev.upcie.sim.iommu;

import dev.upcie.sim.model.DmaDirection;

/** What a device may do with memory mapped for it. */
public enum DmaAccess {
  /** The device may only read it. */
  READ_ONLY,
  /** The device may only write it. */
  WRITE_ONLY,
  /** The device may read and write it: what VFIO's mappings give. */
  READ_WRITE;

  /** True if a DMA in {@code direction} is allowed. */
  public boolean allows(DmaDirection direction) {
    return switch (this) {
      case READ_ONLY -> direction == DmaDirection.READ;
      case WRITE_ONLY -> direction == DmaDirection.WRITE;
      case READ_WRITE -> true;
    };
  }
}
