package dev.upcie.memory;

import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import dev.upcie.hugepages.HugepagePool;
import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.PageSize;
import dev.upcie.support.Sizes;
import dev.upcie.support.UpcieException;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Statfs;
import dev.upcie.sys.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Memory backed by hugepages, mapped shared and resident: what a DMA heap is built on.
 *
 * <p>{@link #allocate(long, PageSize)} takes the pages from an anonymous hugetlb memfd; {@link
 * #allocate(long, PageSize, Path)} from a file on a hugetlbfs mount. Either way the pages are
 * reserved when mapped, faulted in through the kernel and zeroed. They stay resident: hugepages are
 * never swapped (which is also why the kernel ignores {@code mlock} on them, apart from charging
 * the locked-memory limit, so this class does not call it where it need not). And {@link
 * #exportPath()} names a file another process can {@link #importFrom(Path) import} to share them:
 * the original's inter-process use.
 *
 * <pre>{@code
 * try (HugepageRegion region = HugepageRegion.allocate(64 << 20, PageSize.parse("2M"))) {
 *   MemorySegment memory = region.segment();
 *   PhysicalTranslation phys = region.physicalTranslation();   // needs root
 * }
 * }</pre>
 *
 * <p>Closing unmaps the memory (any later access through {@link #segment()} throws) and, for a
 * hugetlbfs file this region created, removes the file.
 */
public final class HugepageRegion implements AutoCloseable {
  private static final AtomicInteger FILES = new AtomicInteger();

  private final NativeFd fd;
  private final Arena arena;
  private final MemorySegment segment;
  private final PageSize pageSize;
  private final Path exportPath;
  private final boolean removeOnClose;
  private PhysicalTranslation physical;
  private DmaHeap owner;
  private boolean closed;

  private HugepageRegion(
      NativeFd fd,
      Arena arena,
      MemorySegment segment,
      PageSize pageSize,
      Path exportPath,
      boolean removeOnClose) {
    this.fd = fd;
    this.arena = arena;
    this.segment = segment;
    this.pageSize = pageSize;
    this.exportPath = exportPath;
    this.removeOnClose = removeOnClose;
  }

  /**
   * Allocates {@code size} bytes of hugepages of {@code pageSize} from a hugetlb memfd.
   *
   * @throws UpcieException if the size is not a whole number of pages, the kernel has no such pool,
   *     the pool has too few free pages, or locking is not allowed
   */
  public static HugepageRegion allocate(long size, PageSize pageSize) {
    requireWholePages(size, pageSize);
    NativeFd fd;
    try {
      fd =
          Syscalls.memfdCreate(
              "upcie-" + pageSize, Posix.MFD_HUGETLB | (pageSize.shift() << Posix.MFD_HUGE_SHIFT));
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot create a memfd of "
              + pageSize
              + " hugepages: "
              + e.getMessage()
              + (e.is(Errno.EINVAL) ? "; this kernel has no " + pageSize + " hugepage pool" : ""),
          e);
    }
    return map(fd, size, pageSize, Path.of(fd.path()), false, true, -1);
  }

  /**
   * Allocates {@code size} bytes of hugepages of {@code pageSize} from NUMA node {@code node} only
   * ({@code mbind(MPOL_BIND)} before the pages are faulted in): memory near a device, or, without
   * an IOMMU, memory in a physical range a device's DMA mask reaches.
   *
   * @throws UpcieException if the node has too few free pages of that size (the message says how
   *     many it has), or as for {@link #allocate(long, PageSize)}
   */
  public static HugepageRegion allocate(long size, PageSize pageSize, int node) {
    if (node < 0) {
      throw new IllegalArgumentException("NUMA node must not be negative: " + node);
    }
    requireWholePages(size, pageSize);
    NativeFd fd;
    try {
      fd =
          Syscalls.memfdCreate(
              "upcie-" + pageSize + "-node" + node,
              Posix.MFD_HUGETLB | (pageSize.shift() << Posix.MFD_HUGE_SHIFT));
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot create a memfd of " + pageSize + " hugepages: " + e.getMessage(), e);
    }
    return map(fd, size, pageSize, Path.of(fd.path()), false, true, node);
  }

  /**
   * Allocates {@code size} bytes of hugepages from a new file in {@code hugetlbfsDirectory}, whose
   * mount decides the page size; {@code pageSize} must match it.
   *
   * @throws UpcieException if the directory is not on hugetlbfs, or has another page size, or as
   *     for {@link #allocate(long, PageSize)}
   */
  public static HugepageRegion allocate(long size, PageSize pageSize, Path hugetlbfsDirectory) {
    requireWholePages(size, pageSize);
    Path file =
        hugetlbfsDirectory
            .toAbsolutePath()
            .resolve("upcie-" + ProcessHandle.current().pid() + "-" + FILES.incrementAndGet());
    NativeFd fd;
    try {
      fd = Syscalls.open(file.toString(), Posix.O_RDWR | Posix.O_CREAT | Posix.O_EXCL, 0600);
    } catch (ErrnoException e) {
      throw new UpcieException("cannot create " + file + ": " + e.getMessage(), e);
    }
    try {
      Statfs fs = Syscalls.fstatfs(fd);
      if (!fs.isHugetlbfs() || fs.blockSize() != pageSize.bytes()) {
        throw new UpcieException(
            hugetlbfsDirectory
                + (fs.isHugetlbfs()
                    ? " is a hugetlbfs of "
                        + PageSize.of(fs.blockSize())
                        + " pages, not "
                        + pageSize
                    : " is not on hugetlbfs; mount one with `upcie hugepages mount`"));
      }
    } catch (RuntimeException e) {
      fd.close();
      Syscalls.unlinkQuietly(file.toString());
      throw e;
    }
    return map(fd, size, pageSize, file, true, true, -1);
  }

  /**
   * Maps the hugepages another process exported ({@link #exportPath()}): the same physical memory,
   * shared. Its content is kept; closing this region leaves the file to its owner.
   *
   * @throws UpcieException if the path cannot be opened or is not hugepage-backed
   */
  public static HugepageRegion importFrom(Path exported) {
    NativeFd fd;
    try {
      fd = Syscalls.open(exported.toString(), Posix.O_RDWR);
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot open " + exported + " to import hugepages: " + e.getMessage(), e);
    }
    try {
      Statfs fs = Syscalls.fstatfs(fd);
      if (!fs.isHugetlbfs()) {
        throw new UpcieException(exported + " is not hugepage memory (not on hugetlbfs)");
      }
      long size = Syscalls.size(fd);
      if (size == 0) {
        throw new UpcieException(exported + " is empty: nothing to import");
      }
      return map(fd, size, PageSize.of(fs.blockSize()), exported, false, false, -1);
    } catch (RuntimeException e) {
      fd.close();
      throw e;
    }
  }

  private static HugepageRegion map(
      NativeFd fd,
      long size,
      PageSize pageSize,
      Path exportPath,
      boolean ownsFile,
      boolean fresh,
      int node) {
    Arena arena = Arena.ofShared();
    try {
      if (fresh) {
        Syscalls.ftruncate(fd, size);
      }
      MemorySegment segment;
      try {
        // A shared hugetlb mapping reserves its pages now, so later faults cannot run short.
        segment = Syscalls.mmap(fd, 0, size, arena);
      } catch (ErrnoException e) {
        throw new UpcieException(
            "cannot map "
                + Sizes.human(size)
                + " of "
                + pageSize
                + " hugepages: "
                + e.getMessage()
                + (e.is(Errno.ENOMEM) ? "; " + shortage(pageSize, size) : ""),
            e);
      }
      if (node >= 0) {
        bind(segment, node, pageSize);
      }
      populate(segment, exportPath, pageSize, node);
      if (fresh) {
        // Every page is in now; the kernel zeroed new hugepages, and this makes it explicit.
        segment.fill((byte) 0);
      }
      return new HugepageRegion(fd, arena, segment, pageSize, exportPath, ownsFile);
    } catch (RuntimeException e) {
      arena.close();
      fd.close();
      if (ownsFile) {
        Syscalls.unlinkQuietly(exportPath.toString());
      }
      throw e;
    }
  }

  /**
   * Faults every page in through the kernel, so a page it cannot supply (a hugetlb cgroup limit, a
   * NUMA policy) is an error here rather than a SIGBUS, which would end the JVM, on first touch.
   * {@code MADV_POPULATE_WRITE} needs Linux 5.14; before it, {@code mlock} populates the same way
   * but counts against the locked-memory limit.
   */
  private static void bind(MemorySegment segment, int node, PageSize pageSize) {
    try {
      Syscalls.bindToNode(segment, node, pageSize + " hugepages");
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot bind "
              + Sizes.human(segment.byteSize())
              + " of "
              + pageSize
              + " hugepages to NUMA node "
              + node
              + ": "
              + e.getMessage()
              + (e.is(Errno.EINVAL) ? "; this machine has no node " + node : ""),
          e);
    }
  }

  private static void populate(
      MemorySegment segment, Path exportPath, PageSize pageSize, int node) {
    try {
      Syscalls.populateWrite(segment, exportPath.toString());
      return;
    } catch (ErrnoException e) {
      if (!e.is(Errno.EINVAL)) {
        throw new UpcieException(
            "cannot fault in "
                + Sizes.human(segment.byteSize())
                + " of "
                + pageSize
                + " hugepages: "
                + e.getMessage()
                + (node >= 0
                    ? "; NUMA node "
                        + node
                        + " has too few free "
                        + pageSize
                        + " hugepages: "
                        + nodeShortage(pageSize, node)
                    : "; the pool ran short after mapping, or a hugetlb cgroup limit or NUMA"
                        + " policy refused the pages"),
            e);
      }
    }
    try {
      Syscalls.mlock(segment, exportPath.toString());
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot fault in "
              + Sizes.human(segment.byteSize())
              + " of hugepages with mlock (this kernel predates MADV_POPULATE_WRITE): "
              + e.getMessage()
              + "; raise the locked-memory limit (ulimit -l) or run as root",
          e);
    }
  }

  private static String shortage(PageSize pageSize, long size) {
    try {
      HugepagePool pool = Hugepages.system().pool(pageSize);
      return "the "
          + pageSize
          + " pool has "
          + pool.available()
          + " of its "
          + pool.total()
          + " pages available, "
          + size / pageSize.bytes()
          + " are needed; reserve more with `upcie hugepages reserve`";
    } catch (UpcieException e) {
      return "not enough free "
          + pageSize
          + " hugepages; reserve more with `upcie hugepages reserve`";
    }
  }

  private static String nodeShortage(PageSize pageSize, int node) {
    try {
      return Hugepages.system().pool(pageSize).nodes().stream()
              .filter(n -> n.node() == node)
              .findFirst()
              .map(n -> n.free() + " of its " + n.total() + " are free")
              .orElse("it has no " + pageSize + " pool")
          + "; reserve more there with `upcie hugepages reserve "
          + node
          + "=<amount> --pagesize "
          + pageSize
          + "`";
    } catch (UpcieException e) {
      return "reserve more there with `upcie hugepages reserve`";
    }
  }

  private static void requireWholePages(long size, PageSize pageSize) {
    if (size <= 0 || size % pageSize.bytes() != 0) {
      throw new UpcieException(
          "a hugepage region is a whole number of pages: "
              + size
              + " bytes is not a multiple of "
              + pageSize);
    }
  }

  /** The memory; after {@link #close()} any access throws. */
  public MemorySegment segment() {
    return segment;
  }

  /** The size in bytes. */
  public long size() {
    return segment.byteSize();
  }

  /** The hugepage size backing it. */
  public PageSize pageSize() {
    return pageSize;
  }

  /**
   * A path another process can pass to {@link #importFrom(Path)}: {@code /proc/<pid>/fd/<n>} for a
   * memfd (valid while this region is open), the file for hugetlbfs.
   */
  public Path exportPath() {
    return exportPath;
  }

  /**
   * The physical address of each hugepage, read once from {@link Pagemap}.
   *
   * @throws PagemapException if this process may not see physical addresses (not root)
   */
  public synchronized PhysicalTranslation physicalTranslation() {
    checkOpen();
    if (physical == null) {
      physical = new PhysicalTranslation(Pagemap.physicalPages(segment, pageSize), pageSize);
    }
    return physical;
  }

  /** Hands the region to a heap, which closes it; closing it directly is then refused. */
  synchronized void lease(DmaHeap heap) {
    checkOpen();
    if (owner != null && owner != heap) {
      throw new IllegalStateException(this + " already belongs to another DMA heap");
    }
    owner = heap;
  }

  /** A heap that could not be built gives the region back, open. */
  synchronized void unlease(DmaHeap heap) {
    if (owner == heap) {
      owner = null;
    }
  }

  /** The heap is done with the region: closes it. */
  synchronized void release(DmaHeap heap) {
    if (owner == heap) {
      owner = null;
      close();
    }
  }

  /**
   * Unmaps the memory, closes the file, and removes it if this region created it.
   *
   * @throws IllegalStateException if a {@link DmaHeap} owns the region: close the heap instead,
   *     since its buffers still point into this memory
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    if (owner != null) {
      throw new IllegalStateException(
          this + " belongs to a DMA heap whose buffers point into it; close the heap instead");
    }
    closed = true;
    try {
      arena.close();
    } finally {
      fd.close();
      if (removeOnClose) {
        Syscalls.unlinkQuietly(exportPath.toString());
      }
    }
  }

  @Override
  public String toString() {
    return "HugepageRegion["
        + Sizes.human(segment.byteSize())
        + " of "
        + pageSize
        + ", "
        + exportPath
        + (closed ? ", closed" : "")
        + "]";
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(this + " is closed");
    }
  }
}
