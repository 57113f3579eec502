package dev.upcie.hugepages;

import dev.upcie.support.InvalidInputException;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.SysfsException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;

/**
 * Reservations of hugepages: plans as explicit writes to the per-size {@code nr_hugepages} files
 * ({@code /proc/sys/vm/nr_hugepages} would only size the default pool), and applying them: each
 * write is read back, and while a pool falls short the kernel is asked to compact memory and the
 * write is made again.
 *
 * <pre>{@code
 * HugepageReservations reservations = Hugepages.system().reservations();
 * Reservation r = reservations.apply(reservations.planTotal(PageSize.parse("2M"), 512));
 * if (!r.isComplete()) { ... }   // the kernel granted fewer pages
 * }</pre>
 */
public final class HugepageReservations {
  private static final int COMPACTION_RETRIES = 2;

  private final Hugepages hugepages;

  HugepageReservations(Hugepages hugepages) {
    this.hugepages = hugepages;
  }

  /** A reservation of {@code pages} pages machine-wide; the kernel spreads them over nodes. */
  public List<PoolWrite> planTotal(PageSize size, long pages) {
    hugepages.requireSize(size);
    return List.of(new PoolWrite(size, OptionalInt.empty(), requireCount(size, pages)));
  }

  /** A reservation of {@code pages} pages on every node. */
  public List<PoolWrite> planPerNode(PageSize size, long pages) {
    hugepages.requireSize(size);
    List<Integer> nodes = hugepages.nodes();
    if (nodes.isEmpty()) {
      throw new UpcieException(
          "this kernel lists no NUMA nodes with hugepages under "
              + hugepages.sysfs().resolve("devices/system/node")
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
    hugepages.requireSize(size);
    List<Integer> nodes = hugepages.nodes();
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
      long before = hugepages.number(write.path());
      int attempts = 0;
      long after;
      do {
        if (attempts > 0) {
          compact();
        }
        hugepages.sysfs().write(write.path(), Long.toString(write.pages()));
        attempts++;
        after = hugepages.number(write.path());
      } while (after < write.pages() && attempts <= COMPACTION_RETRIES);
      outcomes.add(new Reservation.Outcome(write, before, after, attempts));
    }
    return new Reservation(outcomes);
  }

  private void compact() {
    try {
      hugepages.procfs().compactMemory();
    } catch (UpcieException e) {
      // Compaction only helps; without it the read-back still tells the truth.
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
