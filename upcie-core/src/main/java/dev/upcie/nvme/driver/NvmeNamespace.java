package dev.upcie.nvme.driver;

/**
 * An active namespace of a controller, as {@link NvmeController#namespace(int)} found it: what I/O
 * on it needs (block size, size in blocks) and its Identify data. Queue pairs check every range
 * against it before a command reaches the device.
 */
public final class NvmeNamespace {
  private final NvmeController controller;
  private final IdentifyNamespace identify;
  private final long blockSize;
  private final int blockShift;

  NvmeNamespace(NvmeController controller, IdentifyNamespace identify) {
    this.controller = controller;
    this.identify = identify;
    this.blockSize = identify.blockSize();
    this.blockShift = Long.numberOfTrailingZeros(blockSize);
  }

  /** The namespace id. */
  public int nsid() {
    return identify.nsid();
  }

  /** Bytes per block. */
  public long blockSize() {
    return blockSize;
  }

  /** The size in blocks (NSZE). */
  public long blocks() {
    return identify.size();
  }

  /** The size in bytes. */
  public long bytes() {
    return identify.size() << blockShift;
  }

  /** Identify Namespace, as read when this was made. */
  public IdentifyNamespace identify() {
    return identify;
  }

  NvmeController controller() {
    return controller;
  }

  int blockShift() {
    return blockShift;
  }

  @Override
  public String toString() {
    return "NvmeNamespace[nsid "
        + nsid()
        + ", "
        + blocks()
        + " blocks of "
        + blockSize
        + " bytes, on "
        + controller.name()
        + "]";
  }
}
