package dev.upcie.sim.nvme;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * One namespace of a simulated NVMe controller, as QEMU's {@code -device nvme-ns} describes it: its
 * size, its logical block size, and what holds its blocks.
 *
 * <p>Blocks live in sparse memory by default: only blocks ever written take memory, so a 1 TiB
 * namespace costs nothing until used. {@link #file} keeps them in a file instead (created sparse if
 * absent, as QEMU's raw image), which survives the test.
 *
 * <pre>{@code
 * NamespaceOptions small = NamespaceOptions.sparse(64 << 20, 512);
 * NamespaceOptions big = NamespaceOptions.sparse(1L << 40, 4096).nsid(7);
 * NamespaceOptions onDisk = NamespaceOptions.file(Path.of("target/ns1.img"), 256 << 20, 4096);
 * }</pre>
 *
 * @param nsid the namespace identifier, or 0 for the lowest free one (QEMU's default)
 * @param bytes the size; the namespace has {@code bytes / blockSize} blocks, as in QEMU
 * @param blockSize the logical block size: 512 or 4096
 * @param file the backing file, or empty for sparse memory
 */
public record NamespaceOptions(int nsid, long bytes, int blockSize, Optional<Path> file) {
  /** Namespace identifiers QEMU 7.2 accepts: 1 to 256. */
  public static final int MAX_NSID = 256;

  /**
   * Checks the options as QEMU's {@code nvme-ns} does.
   *
   * @throws IllegalArgumentException for a block size other than 512 or 4096, a size smaller than
   *     one block, or a namespace identifier outside 0 to 256
   */
  public NamespaceOptions {
    Objects.requireNonNull(file, "file");
    if (blockSize != 512 && blockSize != 4096) {
      throw new IllegalArgumentException(
          "logical block size " + blockSize + ": the simulated controller offers 512 or 4096");
    }
    if (bytes < blockSize) {
      throw new IllegalArgumentException(
          "namespace of " + bytes + " bytes is smaller than one " + blockSize + "-byte block");
    }
    if (nsid < 0 || nsid > MAX_NSID) {
      throw new IllegalArgumentException(
          "namespace id " + nsid + " outside 1 to " + MAX_NSID + " (0 picks the lowest free)");
    }
  }

  /**
   * A namespace of {@code bytes} in sparse memory. The blocks written take native memory, counted
   * against the JVM's direct-memory limit (the heap size unless {@code -XX:MaxDirectMemorySize}
   * says otherwise): a test that fills a large namespace raises that limit, or uses {@link #file}.
   */
  public static NamespaceOptions sparse(long bytes, int blockSize) {
    return new NamespaceOptions(0, bytes, blockSize, Optional.empty());
  }

  /** A namespace of {@code bytes} kept in {@code file}, created (sparse) or extended if needed. */
  public static NamespaceOptions file(Path file, long bytes, int blockSize) {
    return new NamespaceOptions(0, bytes, blockSize, Optional.of(file));
  }

  /** The same namespace with identifier {@code nsid}. */
  public NamespaceOptions nsid(int nsid) {
    return new NamespaceOptions(nsid, bytes, blockSize, file);
  }

  /** The number of logical blocks: {@code bytes / blockSize}, as QEMU's NSZE. */
  public long blocks() {
    return bytes / blockSize;
  }
}
