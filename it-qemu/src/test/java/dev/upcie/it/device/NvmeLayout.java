package dev.upcie.it.device;

import dev.upcie.sim.nvme.NamespaceOptions;
import dev.upcie.sim.nvme.NvmeOptions;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The NVMe controller a guest run gives QEMU, which the device tests read instead of assuming it:
 * the maximum data transfer size and the namespaces (identifier, size, logical block size). The
 * simulated model a test builds beside QEMU's is built from the same layout ({@link #options}), so
 * the two stay comparable whichever layout the run chose.
 *
 * <p>{@link #DEFAULT} is QEMU's defaults with two namespaces, what {@code ci/run} tests and what
 * the simulator's q35 machine has; {@link #MDTS5_3NS} differs in all three respects, for the
 * nightly matrix. The ITs take the layout from {@code -Dupcie.nvme.layout=NAME} and pass it to the
 * guest's tests, which read it with {@link #current()}.
 *
 * <pre>{@code
 * NvmeLayout layout = NvmeLayout.current();
 * int small = layout.withBlockSize(512).nsid(); // namespace 1 in the default layout
 * NvmeModel beside = new NvmeModel(layout.options(serial));
 * }</pre>
 *
 * @param name what {@code upcie.nvme.layout} calls it
 * @param mdts QEMU's {@code mdts}: the maximum transfer, a power of two of 4 KiB pages
 * @param namespaces the namespaces, in identifier order
 */
public record NvmeLayout(String name, int mdts, List<Namespace> namespaces) {
  /** System property: the layout the ITs give QEMU's controller; {@code default} unless set. */
  public static final String PROPERTY = "upcie.nvme.layout";

  /**
   * QEMU 7.2's defaults (MDTS 7, 512 KiB) and two namespaces of 64 MiB: namespace 1 of 512-byte
   * blocks, namespace 2 of 4 KiB blocks; {@link NvmeOptions#defaults()}' layout.
   */
  public static final NvmeLayout DEFAULT =
      new NvmeLayout(
          "default",
          7,
          List.of(new Namespace(1, 64L << 20, 512), new Namespace(2, 64L << 20, 4096)));

  /**
   * MDTS 5 (128 KiB, so the driver splits what the default takes in one command) and three
   * namespaces whose block sizes are the other way round: namespace 1 of 4 KiB blocks (96 MiB),
   * namespace 2 of 512-byte blocks (32 MiB), namespace 3 of 4 KiB blocks (16 MiB).
   */
  public static final NvmeLayout MDTS5_3NS =
      new NvmeLayout(
          "mdts5-3ns",
          5,
          List.of(
              new Namespace(1, 96L << 20, 4096),
              new Namespace(2, 32L << 20, 512),
              new Namespace(3, 16L << 20, 4096)));

  /** One namespace. */
  public record Namespace(int nsid, long bytes, int blockSize) {
    /** The number of logical blocks, QEMU's NSZE. */
    public long blocks() {
      return bytes / blockSize;
    }

    /** The index of its LBA format in QEMU's list: 0 for 512 bytes, 4 for 4 KiB, no metadata. */
    public int lbaFormat() {
      return blockSize == 512 ? 0 : 4;
    }
  }

  /** Every layout, the default first. */
  public static List<NvmeLayout> all() {
    return List.of(DEFAULT, MDTS5_3NS);
  }

  /**
   * The layout called {@code name}.
   *
   * @throws IllegalArgumentException naming the layouts there are
   */
  public static NvmeLayout named(String name) {
    return all().stream()
        .filter(layout -> layout.name().equals(name))
        .findFirst()
        .orElseThrow(() ->
            new IllegalArgumentException(
                "no NVMe layout '"
                    + name
                    + "' ("
                    + PROPERTY
                    + "); there are: "
                    + all().stream().map(NvmeLayout::name).collect(Collectors.joining(", "))));
  }

  /** The layout the ITs were asked for ({@link #PROPERTY}), on the host. */
  public static NvmeLayout requested() {
    return named(System.getProperty(PROPERTY, DEFAULT.name()));
  }

  /**
   * The layout of the controller this run's tests meet: what the guest script said ({@link
   * GuestRun#NVME_LAYOUT}), or the default, which the simulator's machine has.
   */
  public static NvmeLayout current() {
    return named(System.getProperty(GuestRun.NVME_LAYOUT, DEFAULT.name()));
  }

  /** The namespace identifiers, in order. */
  public List<Integer> nsids() {
    return namespaces.stream().map(Namespace::nsid).toList();
  }

  /** Namespace {@code nsid}. */
  public Namespace namespace(int nsid) {
    return namespaces.stream()
        .filter(ns -> ns.nsid() == nsid)
        .findFirst()
        .orElseThrow(
            () -> new IllegalArgumentException("layout " + name + " has no namespace " + nsid));
  }

  /** The first namespace with {@code blockSize}-byte blocks (every layout has 512 and 4096). */
  public Namespace withBlockSize(int blockSize) {
    return namespaces.stream()
        .filter(ns -> ns.blockSize() == blockSize)
        .findFirst()
        .orElseThrow(() ->
            new IllegalArgumentException(
                "layout " + name + " has no namespace of " + blockSize + "-byte blocks"));
  }

  /** The lowest namespace identifier that is not attached. */
  public int inactiveNsid() {
    int nsid = 1;
    while (nsids().contains(nsid)) {
      nsid++;
    }
    return nsid;
  }

  /** The maximum data transfer size in bytes: 4 KiB pages times two to the MDTS. */
  public long maxTransferBytes() {
    return 4096L << mdts;
  }

  /** The simulated controller of this layout, with {@code serial}. */
  public NvmeOptions options(String serial) {
    NvmeOptions.Builder builder = NvmeOptions.builder().serial(serial).mdts(mdts);
    for (Namespace ns : namespaces) {
      builder.namespace(NamespaceOptions.sparse(ns.bytes(), ns.blockSize()).nsid(ns.nsid()));
    }
    return builder.build();
  }
}
