package dev.upcie.hugepages;

import dev.upcie.procfs.MountEntry;
import dev.upcie.procfs.Procfs;
import dev.upcie.support.InvalidInputException;
import dev.upcie.support.Sizes;
import dev.upcie.support.UpcieException;
import dev.upcie.sys.Errno;
import dev.upcie.sys.ErrnoException;
import dev.upcie.sys.Syscalls;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machine's hugepages: pools per size and NUMA node, reservations, and hugetlbfs mounts.
 *
 * <p>Reads and writes go through {@link Sysfs} and {@link Procfs}, so a copy of the trees or the
 * simulator can stand in for the kernel. Reservations always write the per-size files ({@code
 * /proc/sys/vm/nr_hugepages} would only size the default pool), read back what the kernel granted,
 * and on a shortfall ask the kernel to compact memory and try again.
 *
 * <pre>{@code
 * Hugepages hugepages = Hugepages.system();
 * PageSize size = hugepages.defaultSize();
 * Reservation r = hugepages.apply(hugepages.planTotal(size, hugepages.pages(size, Sizes.parse("1G"))));
 * if (!r.isComplete()) { ... }   // the kernel granted fewer pages
 * }</pre>
 */
public final class Hugepages {
  private static final String SIZES = "kernel/mm/hugepages";
  private static final String NODES = "devices/system/node";
  private static final Pattern SIZE_DIR = Pattern.compile("hugepages-(\\d+)kB");
  private static final Pattern NODE_DIR = Pattern.compile("node(\\d+)");
  private static final int COMPACTION_RETRIES = 2;

  private final Sysfs sysfs;
  private final Procfs procfs;

  /** Hugepages as {@code sysfs} and {@code procfs} describe them. */
  public Hugepages(Sysfs sysfs, Procfs procfs) {
    this.sysfs = sysfs;
    this.procfs = procfs;
  }

  /** The machine's hugepages, from {@code /sys} and {@code /proc}. */
  public static Hugepages system() {
    return new Hugepages(Sysfs.system(), Procfs.system());
  }

  /** The sysfs this view reads. */
  public Sysfs sysfs() {
    return sysfs;
  }

  /** The procfs this view reads. */
  public Procfs procfs() {
    return procfs;
  }

  /**
   * The hugepage sizes the kernel supports, smallest first.
   *
   * @throws UpcieException if the kernel has no hugepage support
   */
  public List<PageSize> sizes() {
    if (!sysfs.exists(SIZES)) {
      throw new UpcieException(
          "no "
              + sysfs.resolve(SIZES)
              + ": this kernel has no hugepage support (CONFIG_HUGETLBFS)");
    }
    List<PageSize> sizes = new ArrayList<>();
    for (String name : sysfs.list(SIZES)) {
      Matcher m = SIZE_DIR.matcher(name);
      if (m.matches()) {
        sizes.add(PageSize.of(Long.parseLong(m.group(1)) << 10));
      }
    }
    sizes.sort(null);
    return sizes;
  }

  /** The default size: {@code Hugepagesize} in {@code /proc/meminfo}, else the smallest size. */
  public PageSize defaultSize() {
    if (procfs.exists("meminfo")) {
      Long kilobytes = procfs.meminfo().get("Hugepagesize");
      if (kilobytes != null) {
        return PageSize.of(kilobytes << 10);
      }
    }
    return sizes().get(0);
  }

  /**
   * Checks that the kernel has a pool of {@code size}.
   *
   * @throws InvalidInputException naming the sizes it has
   */
  public PageSize requireSize(PageSize size) {
    List<PageSize> sizes = sizes();
    if (!sizes.contains(size)) {
      throw new InvalidInputException(
          "this kernel has no " + size + " hugepages; its sizes are " + sizes);
    }
    return size;
  }

  /** The NUMA nodes that have hugepage pools, in order; empty on kernels without NUMA files. */
  public List<Integer> nodes() {
    List<Integer> nodes = new ArrayList<>();
    if (!sysfs.exists(NODES)) {
      return nodes;
    }
    for (String name : sysfs.list(NODES)) {
      Matcher m = NODE_DIR.matcher(name);
      if (m.matches() && sysfs.exists(NODES + "/" + name + "/hugepages")) {
        nodes.add(Integer.parseInt(m.group(1)));
      }
    }
    nodes.sort(null);
    return nodes;
  }

  /** Every pool, smallest size first. */
  public List<HugepagePool> pools() {
    PageSize defaultSize = defaultSize();
    List<HugepagePool> pools = new ArrayList<>();
    List<Integer> nodes = nodes();
    for (PageSize size : sizes()) {
      String dir = SIZES + "/" + size.sysfsName();
      List<HugepagePool.NodePool> perNode = new ArrayList<>();
      for (int node : nodes) {
        String nodeDir = NODES + "/node" + node + "/hugepages/" + size.sysfsName();
        if (sysfs.exists(nodeDir)) {
          perNode.add(
              new HugepagePool.NodePool(
                  node,
                  number(nodeDir + "/nr_hugepages"),
                  number(nodeDir + "/free_hugepages"),
                  number(nodeDir + "/surplus_hugepages")));
        }
      }
      pools.add(
          new HugepagePool(
              size,
              size.equals(defaultSize),
              number(dir + "/nr_hugepages"),
              number(dir + "/free_hugepages"),
              number(dir + "/resv_hugepages"),
              number(dir + "/surplus_hugepages"),
              number(dir + "/nr_overcommit_hugepages"),
              perNode));
    }
    return pools;
  }

  /** The pool of {@code size}. */
  public HugepagePool pool(PageSize size) {
    requireSize(size);
    return pools().stream().filter(p -> p.size().equals(size)).findFirst().orElseThrow();
  }

  /**
   * The number of pages of {@code size} that make {@code bytes}.
   *
   * @throws InvalidInputException if {@code bytes} is not a whole number of pages
   */
  public long pages(PageSize size, long bytes) {
    if (bytes < 0 || bytes % size.bytes() != 0) {
      long below = bytes / size.bytes() * size.bytes();
      throw new InvalidInputException(
          Sizes.human(bytes)
              + " is not a whole number of "
              + size
              + " pages; ask for "
              + Sizes.human(below)
              + " or "
              + Sizes.human(below + size.bytes()));
    }
    return bytes / size.bytes();
  }

  /** A reservation of {@code pages} pages machine-wide; the kernel spreads them over nodes. */
  public List<PoolWrite> planTotal(PageSize size, long pages) {
    requireSize(size);
    return List.of(new PoolWrite(size, OptionalInt.empty(), requireCount(size, pages)));
  }

  /** A reservation of {@code pages} pages on every node. */
  public List<PoolWrite> planPerNode(PageSize size, long pages) {
    requireSize(size);
    List<Integer> nodes = nodes();
    if (nodes.isEmpty()) {
      throw new UpcieException(
          "this kernel lists no NUMA nodes with hugepages under "
              + sysfs.resolve(NODES)
              + "; reserve machine-wide instead");
    }
    return nodes.stream()
        .map(n -> new PoolWrite(size, OptionalInt.of(n), requireCount(size, pages)))
        .toList();
  }

  /**
   * A reservation split over nodes, such as 2048 pages on node 0 and 1024 on node 1.
   *
   * @throws InvalidInputException if a node does not exist
   */
  public List<PoolWrite> planSplit(PageSize size, Map<Integer, Long> pagesByNode) {
    requireSize(size);
    List<Integer> nodes = nodes();
    List<PoolWrite> writes = new ArrayList<>();
    for (Map.Entry<Integer, Long> entry : new TreeMap<>(pagesByNode).entrySet()) {
      if (!nodes.contains(entry.getKey())) {
        throw new InvalidInputException(
            "there is no NUMA node " + entry.getKey() + " with hugepages; nodes: " + nodes);
      }
      writes.add(
          new PoolWrite(
              size, OptionalInt.of(entry.getKey()), requireCount(size, entry.getValue())));
    }
    return writes;
  }

  /**
   * Makes each write, reads back what the kernel granted and, while a pool falls short, asks the
   * kernel to compact memory and writes again (twice at most).
   *
   * @throws SysfsException if a write is refused ({@code EACCES}/{@code EPERM} without root)
   */
  public Reservation apply(List<PoolWrite> plan) {
    List<Reservation.Outcome> outcomes = new ArrayList<>();
    for (PoolWrite write : plan) {
      long before = number(write.path());
      int attempts = 0;
      long after;
      do {
        if (attempts > 0) {
          compact();
        }
        sysfs.write(write.path(), Long.toString(write.pages()));
        attempts++;
        after = number(write.path());
      } while (after < write.pages() && attempts <= COMPACTION_RETRIES);
      outcomes.add(new Reservation.Outcome(write, before, after, attempts));
    }
    return new Reservation(outcomes);
  }

  /** Every hugetlbfs mount, in mount order. */
  public List<HugetlbfsMount> mounts() {
    PageSize defaultSize = null;
    List<HugetlbfsMount> mounts = new ArrayList<>();
    for (MountEntry entry : procfs.mounts()) {
      if (!entry.type().equals("hugetlbfs")) {
        continue;
      }
      PageSize size;
      if (entry.option("pagesize").isPresent()) {
        size = PageSize.parse(entry.option("pagesize").get());
      } else {
        defaultSize = defaultSize == null ? defaultSize() : defaultSize;
        size = defaultSize;
      }
      mounts.add(new HugetlbfsMount(entry.mountPoint(), size, entry.options()));
    }
    return mounts;
  }

  /** The sizes that have a pool but no hugetlbfs mount, smallest first. */
  public List<PageSize> sizesWithoutMount() {
    List<PageSize> mounted = mounts().stream().map(HugetlbfsMount::pageSize).toList();
    return sizes().stream().filter(s -> !mounted.contains(s)).toList();
  }

  /** The shell commands {@link #mount} runs, for {@code --dry-run}. */
  public String mountCommand(Path directory, PageSize size) {
    return "mkdir -p "
        + directory
        + " && mount -t hugetlbfs -o pagesize="
        + size
        + " nodev "
        + directory;
  }

  /**
   * Mounts hugetlbfs of {@code size} at {@code directory}, creating the directory. Mounting where a
   * hugetlbfs of the same size already is does nothing.
   *
   * @throws UpcieException if something else, or a hugetlbfs of another size, is mounted there, the
   *     size does not exist, or the kernel refuses ({@code EPERM} without root)
   */
  public HugetlbfsMount mount(Path directory, PageSize size) {
    requireSize(size);
    Path target = resolved(directory);
    for (MountEntry entry : procfs.mounts()) {
      if (!entry.mountPoint().equals(target)) {
        continue;
      }
      if (!entry.type().equals("hugetlbfs")) {
        throw new UpcieException(
            target + " already has a " + entry.type() + " mounted; choose another directory");
      }
      HugetlbfsMount existing = mountAt(target).orElseThrow();
      if (!existing.pageSize().equals(size)) {
        throw new UpcieException(
            target
                + " is already a hugetlbfs mount with page size "
                + existing.pageSize()
                + ", not "
                + size
                + "; unmount it (umount "
                + target
                + ") or choose another directory");
      }
      return existing;
    }
    try {
      Files.createDirectories(target);
    } catch (AccessDeniedException e) {
      throw new UpcieException(
          "cannot create " + target + ": permission denied; mounting needs root",
          new ErrnoException("mkdir", target.toString(), Errno.EACCES));
    } catch (IOException e) {
      throw new UpcieException("cannot create " + target + ": " + e, e);
    }
    try {
      Syscalls.mount("nodev", target.toString(), "hugetlbfs", "pagesize=" + size);
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot mount hugetlbfs at "
              + target
              + ": "
              + e.getMessage()
              + (e.is(Errno.EPERM) ? "; mounting needs root" : ""),
          e);
    }
    return mountAt(target)
        .orElseThrow(
            () -> new UpcieException("mounted " + target + " but /proc/mounts does not show it"));
  }

  /**
   * Unmounts the hugetlbfs at {@code directory}.
   *
   * @throws UpcieException if no hugetlbfs is mounted there, or the kernel refuses ({@code EBUSY}
   *     while files in it are open)
   */
  public void unmount(Path directory) {
    Path target = resolved(directory);
    if (mountAt(target).isEmpty()) {
      throw new UpcieException("no hugetlbfs is mounted at " + target);
    }
    try {
      Syscalls.unmount(target.toString());
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot unmount "
              + target
              + ": "
              + e.getMessage()
              + (e.is(Errno.EBUSY) ? "; files in it are still open or mapped" : ""),
          e);
    }
  }

  private Optional<HugetlbfsMount> mountAt(Path target) {
    return mounts().stream().filter(m -> m.mountPoint().equals(target)).findFirst();
  }

  /**
   * The path as {@code /proc/mounts} shows it: absolute, with symbolic links resolved as far as the
   * path exists (a directory still to be created keeps its last names).
   */
  private static Path resolved(Path directory) {
    Path absolute = directory.toAbsolutePath().normalize();
    Path existing = absolute;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return absolute;
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(absolute));
    } catch (IOException e) {
      return absolute;
    }
  }

  private void compact() {
    try {
      procfs.compactMemory();
    } catch (UpcieException e) {
      // Compaction only helps; without it the read-back still tells the truth.
    }
  }

  private long number(String path) {
    String text = sysfs.readAttribute(path);
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new UpcieException(
          "unexpected content \"" + text + "\" in " + sysfs.resolve(path) + ": expected a number");
    }
  }

  private static long requireCount(PageSize size, long pages) {
    if (pages < 0) {
      throw new InvalidInputException("a pool cannot have " + pages + " pages");
    }
    if (pages > Long.MAX_VALUE / size.bytes()) {
      throw new InvalidInputException(
          pages + " pages of " + size + " is more memory than any machine has");
    }
    return pages;
  }
}
