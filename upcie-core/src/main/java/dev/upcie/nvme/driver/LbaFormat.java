package dev.upcie.nvme.driver;

/**
 * One LBA format of a namespace (the LBAF entries of Identify Namespace).
 *
 * @param metadataSize MS: metadata bytes per block
 * @param dataSizeShift LBADS: the block size as a power of two (9 is 512 bytes)
 * @param relativePerformance RP: 0 best to 3 degraded
 */
public record LbaFormat(int metadataSize, int dataSizeShift, int relativePerformance) {

  /** The block size in bytes. */
  public long blockSize() {
    return 1L << dataSizeShift;
  }
}
