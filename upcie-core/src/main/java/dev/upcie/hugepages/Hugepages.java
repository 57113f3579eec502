package dev.upcie.hugepages;

import dev.upcie.procfs.Procfs;
import dev.upcie.support.InvalidInputException;
import dev.upcie.support.Sizes;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The machine's hugepages: pools per size and NUMA node; {@link #reservations()} sizes them and
 * {@link #hugetlbfs()} mounts them.
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

  /** Plans and applies reservations: writes to the pools' {@code nr_hugepages} files. */
  public HugepageReservations reservations() {
    return new HugepageReservations(this);
  }

  /** The hugetlbfs mounts, and mounting and unmounting them. */
  public HugetlbfsMounts hugetlbfs() {
    return new HugetlbfsMounts(this);
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

  long number(String path) {
    String text = sysfs.readAttribute(path);
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new UpcieException(
          "unexpected content \"" + text + "\" in " + sysfs.resolve(path) + ": expected a number");
    }
  }
}
