package dev.upcie.sim.nvme;

/**
 * A namespace attached to the simulated controller: its format and identify data, its blocks, and
 * the statistics the SMART log reports (QEMU's block accounting: successful reads and writes only).
 * Guarded by the controller.
 */
final class Namespace {
  final int nsid;
  final BlockStore store;
  private final NamespaceOptions options;
  int blockBits;
  long blocks;
  byte[] identify;
  long bytesRead;
  long bytesWritten;
  long readCommands;
  long writeCommands;
  int errorRecovery;

  /** FLBAS.MSET, as the last Format NVM set it: metadata at the end of each block. */
  boolean extended;

  Namespace(NamespaceOptions options) {
    this.options = options;
    this.nsid = options.nsid();
    this.store =
        options.file().isPresent()
            ? new FileStore(options.file().get(), options.bytes())
            : new SparseStore(options.bytes());
    format(IdentifyData.formatIndex(options.blockSize()));
  }

  /** Takes LBA format {@code lbaf} (one without metadata): block size, capacity, identify data. */
  void format(int lbaf) {
    int blockSize = lbaf < 4 ? 512 : 4096;
    this.blockBits = Integer.numberOfTrailingZeros(blockSize);
    this.identify =
        IdentifyData.namespace(
            new NamespaceOptions(nsid, options.bytes(), blockSize, options.file()));
    this.blocks = options.bytes() >>> blockBits;
  }

  /** The metadata bytes per block of QEMU's LBA format {@code lbaf}: 0, 8, 16, 64, repeated. */
  static int metadataBytes(int lbaf) {
    return new int[] {0, 8, 16, 64}[lbaf & 3];
  }

  /** Bytes in {@code count} blocks. */
  long bytes(long count) {
    return count << blockBits;
  }
}
