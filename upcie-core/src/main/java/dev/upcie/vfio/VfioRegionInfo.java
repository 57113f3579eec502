package dev.upcie.vfio;

/**
 * What VFIO reports about one region of a device (a BAR, the config space, the ROM).
 *
 * @param index the region index: 0-5 are BARs, 6 the ROM, 7 the config space
 * @param flags {@code VFIO_REGION_INFO_FLAG_*}
 * @param size the region's size in bytes, 0 if the region is not implemented
 * @param offset where the region starts in the device file, for {@code pread} and {@code mmap}
 */
record VfioRegionInfo(int index, int flags, long size, long offset) {

  /** True if the region can be read with {@code pread}. */
  public boolean readable() {
    return (flags & VfioAbi.REGION_INFO_FLAG_READ) != 0;
  }

  /** True if the region can be written with {@code pwrite}. */
  public boolean writable() {
    return (flags & VfioAbi.REGION_INFO_FLAG_WRITE) != 0;
  }

  /** True if the region can be memory-mapped. */
  public boolean mappable() {
    return (flags & VfioAbi.REGION_INFO_FLAG_MMAP) != 0;
  }
}
