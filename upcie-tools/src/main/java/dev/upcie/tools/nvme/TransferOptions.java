package dev.upcie.tools.nvme;

import dev.upcie.tools.UsageException;
import picocli.CommandLine.Option;

/**
 * The options {@code upcie nvme read} and {@code write} share, named and counted as nvme-cli's
 * {@code nvme read} and {@code nvme write}: {@code -c} is 0-based, so {@code -c 0} is one block.
 */
public final class TransferOptions {
  /** nvme-cli's {@code -c} is 16 bits: at most 65536 blocks per command. */
  static final int MAX_BLOCK_COUNT = 0xffff;

  /** The most one transfer moves: the data is held in one array. */
  static final long MAX_BYTES = 1L << 30;

  @Option(
      names = {"-n", "--namespace-id"},
      paramLabel = "NSID",
      converter = Numbers.NamespaceId.class,
      description = "The namespace (default: 1).")
  int nsid = 1;

  @Option(
      names = {"-s", "--start-block"},
      paramLabel = "SLBA",
      converter = Numbers.Unsigned.class,
      description = "The first block, decimal or 0x hexadecimal (default: 0).")
  long startBlock;

  @Option(
      names = {"-c", "--block-count"},
      paramLabel = "N",
      converter = Numbers.Unsigned.class,
      description =
          "How many blocks, 0-based as nvme-cli's: 0 is one block, 7 is eight (default: 0;"
              + " at most 65535).")
  long blockCount;

  @Option(
      names = {"-z", "--data-size"},
      paramLabel = "BYTES",
      converter = Numbers.Size.class,
      description =
          "The bytes to move, (N + 1) times the block size (default: that); 4096, 4k, 1M.")
  Long dataSize;

  @Option(
      names = {"-d", "--data"},
      paramLabel = "FILE",
      description = "The data file (default: standard input for write, standard output for read).")
  String data;

  /**
   * Checks what can be checked before the device is opened.
   *
   * @throws UsageException if {@code -c} exceeds 16 bits
   */
  void check() {
    if (blockCount > MAX_BLOCK_COUNT) {
      throw new UsageException(
          "--block-count "
              + blockCount
              + ": at most "
              + MAX_BLOCK_COUNT
              + " (it is 0-based, as nvme-cli's: 65536 blocks)");
    }
  }

  /** How many blocks {@code -c} asks for: one more than it says. */
  long blocks() {
    return blockCount + 1;
  }

  /**
   * Checks {@code -z} against the bytes the range moves.
   *
   * @throws UsageException if they differ, or exceed {@link #MAX_BYTES}
   */
  void checkDataSize(long bytes, long blockSize) {
    if (bytes > MAX_BYTES) {
      throw new UsageException(
          (blockCount + 1)
              + " blocks of "
              + blockSize
              + " bytes are more than one transfer of this command moves ("
              + MAX_BYTES
              + " bytes); use a smaller --block-count");
    }
    if (dataSize != null && dataSize != bytes) {
      throw new UsageException(
          "--data-size "
              + dataSize
              + " does not match --block-count "
              + blockCount
              + " ("
              + (blockCount + 1)
              + (blockCount == 0 ? " block" : " blocks")
              + " of "
              + blockSize
              + " bytes = "
              + bytes
              + " bytes); give -z "
              + bytes
              + " or leave it out");
    }
  }
}
