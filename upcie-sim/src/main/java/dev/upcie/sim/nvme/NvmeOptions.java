package dev.upcie.sim.nvme;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * How a simulated NVMe controller is built: the options of QEMU 7.2's {@code -device nvme} (with
 * QEMU's defaults) and its namespaces, plus what only a simulator can offer (a delay before
 * CSTS.RDY).
 *
 * <pre>{@code
 * NvmeOptions options = NvmeOptions.builder()
 *     .serial("deadbeef")
 *     .mdts(5)
 *     .namespace(NamespaceOptions.sparse(64 << 20, 512))
 *     .namespace(NamespaceOptions.sparse(1L << 30, 4096))
 *     .build();
 * NvmeModel controller = new NvmeModel(options);
 * }</pre>
 *
 * @param serial the serial number in Identify Controller (QEMU requires one)
 * @param mdts the maximum data transfer size as a power of two of the page size; 0 is unlimited
 * @param maxIoQueuePairs the I/O queue pairs the controller offers (QEMU's {@code max_ioqpairs})
 * @param msixQueueSize the MSI-X vectors (QEMU's {@code msix_qsize})
 * @param aerl the Asynchronous Event Request Limit, 0-based (QEMU's {@code aerl})
 * @param readyDelay how long after CC.EN the controller sets CSTS.RDY; zero (QEMU) is at once
 * @param namespaces the namespaces, attached in this order
 * @param completionJitter the most an I/O command's completion is held back, each by its own random
 *     delay up to it: completions then come in another order than their commands, as on a real
 *     drive; zero (QEMU) completes each as it is processed
 * @param seed the seed of those delays: the same seed on virtual time gives the same order
 */
public record NvmeOptions(
    String serial,
    int mdts,
    int maxIoQueuePairs,
    int msixQueueSize,
    int aerl,
    Duration readyDelay,
    List<NamespaceOptions> namespaces,
    Duration completionJitter,
    long seed) {

  /** The serial number of the default controller. */
  public static final String DEFAULT_SERIAL = "upcie-sim-0001";

  /**
   * Checks the options as QEMU's {@code nvme_check_params} does, and gives namespaces without an
   * identifier the lowest free one.
   *
   * @throws IllegalArgumentException naming the option QEMU would refuse
   */
  public NvmeOptions {
    Objects.requireNonNull(serial, "serial");
    Objects.requireNonNull(readyDelay, "readyDelay");
    if (serial.isEmpty() || serial.length() > 20) {
      throw new IllegalArgumentException(
          "serial '" + serial + "': Identify Controller holds 1 to 20 characters");
    }
    if (maxIoQueuePairs < 1 || maxIoQueuePairs > 0xffff) {
      throw new IllegalArgumentException("max_ioqpairs must be between 1 and 65535");
    }
    if (msixQueueSize < 1 || msixQueueSize > 2048) {
      throw new IllegalArgumentException("msix_qsize must be between 1 and 2048");
    }
    if (mdts < 0 || mdts > 15) {
      throw new IllegalArgumentException(
          "mdts " + mdts + ": 0 (unlimited) to 15 pages as a power of two");
    }
    if (aerl < 0 || aerl > 255) {
      throw new IllegalArgumentException("aerl must be between 0 and 255");
    }
    if (readyDelay.isNegative()) {
      throw new IllegalArgumentException("readyDelay must not be negative");
    }
    Objects.requireNonNull(completionJitter, "completionJitter");
    if (completionJitter.isNegative()) {
      throw new IllegalArgumentException("completionJitter must not be negative");
    }
    namespaces = numbered(namespaces);
  }

  /**
   * QEMU 7.2's controller as the it-qemu guests run it, with its defaults (mdts 7, 64 I/O queue
   * pairs, 65 MSI-X vectors, aerl 3) and two namespaces of 64 MiB: namespace 1 of 512-byte blocks,
   * namespace 2 of 4 KiB blocks.
   */
  public static NvmeOptions defaults() {
    return builder().build();
  }

  /** A builder starting from {@link #defaults()}' values, without its namespace. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.serial = serial;
    b.mdts = mdts;
    b.maxIoQueuePairs = maxIoQueuePairs;
    b.msixQueueSize = msixQueueSize;
    b.aerl = aerl;
    b.readyDelay = readyDelay;
    b.completionJitter = completionJitter;
    b.seed = seed;
    b.namespaces.addAll(namespaces);
    b.defaultNamespace = false;
    return b;
  }

  private static List<NamespaceOptions> numbered(List<NamespaceOptions> namespaces) {
    boolean[] taken = new boolean[NamespaceOptions.MAX_NSID + 1];
    for (NamespaceOptions ns : namespaces) {
      if (ns.nsid() != 0 && taken[ns.nsid()]) {
        throw new IllegalArgumentException("namespace id '" + ns.nsid() + "' already allocated");
      }
      taken[ns.nsid()] = true;
    }
    List<NamespaceOptions> result = new ArrayList<>();
    for (NamespaceOptions ns : namespaces) {
      if (ns.nsid() == 0) {
        int free = 1;
        while (free <= NamespaceOptions.MAX_NSID && taken[free]) {
          free++;
        }
        if (free > NamespaceOptions.MAX_NSID) {
          throw new IllegalArgumentException("no free namespace id");
        }
        taken[free] = true;
        ns = ns.nsid(free);
      }
      result.add(ns);
    }
    return List.copyOf(result);
  }

  /** Builds {@link NvmeOptions}; every value starts at QEMU 7.2's default. */
  public static final class Builder {
    private String serial = DEFAULT_SERIAL;
    private int mdts = 7;
    private int maxIoQueuePairs = 64;
    private int msixQueueSize = 65;
    private int aerl = 3;
    private Duration completionJitter = Duration.ZERO;
    private long seed;
    private Duration readyDelay = Duration.ZERO;
    private final List<NamespaceOptions> namespaces = new ArrayList<>();
    private boolean defaultNamespace = true;

    private Builder() {}

    /** The serial number. */
    public Builder serial(String serial) {
      this.serial = serial;
      return this;
    }

    /** The maximum data transfer size, a power of two of the memory page size; 0 is unlimited. */
    public Builder mdts(int mdts) {
      this.mdts = mdts;
      return this;
    }

    /** The number of I/O queue pairs. */
    public Builder maxIoQueuePairs(int pairs) {
      this.maxIoQueuePairs = pairs;
      return this;
    }

    /** The number of MSI-X vectors. */
    public Builder msixQueueSize(int vectors) {
      this.msixQueueSize = vectors;
      return this;
    }

    /** The Asynchronous Event Request Limit, 0-based. */
    public Builder aerl(int aerl) {
      this.aerl = aerl;
      return this;
    }

    /**
     * Holds each I/O completion back by a random delay of up to {@code max}, drawn from {@code
     * seed}: a driver that assumes completions in submission order fails, and the seed replays it.
     */
    public Builder completionJitter(Duration max, long seed) {
      this.completionJitter = Objects.requireNonNull(max, "max");
      this.seed = seed;
      return this;
    }

    /** The delay between CC.EN and CSTS.RDY; zero unless set, as in QEMU. */
    public Builder readyDelay(Duration delay) {
      this.readyDelay = delay;
      return this;
    }

    /** Adds a namespace; the first one replaces the default namespaces. */
    public Builder namespace(NamespaceOptions namespace) {
      defaultNamespace = false;
      namespaces.add(Objects.requireNonNull(namespace, "namespace"));
      return this;
    }

    /** No namespaces at all, as {@code -device nvme} without a drive. */
    public Builder noNamespaces() {
      defaultNamespace = false;
      namespaces.clear();
      return this;
    }

    /** The options. */
    public NvmeOptions build() {
      List<NamespaceOptions> list =
          defaultNamespace
              ? List.of(
                  NamespaceOptions.sparse(64L << 20, 512), NamespaceOptions.sparse(64L << 20, 4096))
              : namespaces;
      return new NvmeOptions(
          serial,
          mdts,
          maxIoQueuePairs,
          msixQueueSize,
          aerl,
          readyDelay,
          list,
          completionJitter,
          seed);
    }
  }
}
