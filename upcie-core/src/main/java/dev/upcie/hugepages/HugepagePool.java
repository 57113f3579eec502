package dev.upcie.hugepages;

import java.util.List;

/**
 * The kernel's pool of one hugepage size, machine-wide, with its per-node breakdown.
 *
 * @param size the page size
 * @param isDefault true for the default size ({@code Hugepagesize} in {@code /proc/meminfo}), the
 *     one {@code /proc/sys/vm/nr_hugepages} and unsized hugetlbfs mounts use
 * @param total pages in the pool ({@code nr_hugepages})
 * @param free pages not in use ({@code free_hugepages})
 * @param reserved pages promised to mappings but not yet faulted ({@code resv_hugepages})
 * @param surplus pages above {@code nr_hugepages}, from overcommit ({@code surplus_hugepages})
 * @param overcommit the most surplus pages allowed ({@code nr_overcommit_hugepages})
 * @param nodes the pool per NUMA node, empty where the kernel has no per-node files
 */
public record HugepagePool(
    PageSize size,
    boolean isDefault,
    long total,
    long free,
    long reserved,
    long surplus,
    long overcommit,
    List<NodePool> nodes) {

  /** Copies the node list. */
  public HugepagePool {
    nodes = List.copyOf(nodes);
  }

  /** Pages neither in use nor promised: what a new mapping can still get. */
  public long available() {
    return free - reserved;
  }

  /**
   * One NUMA node's share of a pool. The kernel keeps no reserved or overcommit figures per node.
   *
   * @param node the node number
   * @param total pages on this node
   * @param free pages not in use on this node
   * @param surplus surplus pages on this node
   */
  public record NodePool(int node, long total, long free, long surplus) {}
}
