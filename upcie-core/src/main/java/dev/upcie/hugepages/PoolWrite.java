package dev.upcie.hugepages;

import java.util.OptionalInt;

/**
 * One write that sizes a hugepage pool: {@code pages} to the {@code nr_hugepages} file of one page
 * size, machine-wide or on one NUMA node. A reservation is a list of these, so it can be shown
 * before it is done ({@code --dry-run}).
 *
 * @param size the page size
 * @param node the NUMA node, or empty for the machine-wide pool (the kernel spreads it)
 * @param pages the pool size to ask for
 */
public record PoolWrite(PageSize size, OptionalInt node, long pages) {

  /** The sysfs attribute written, relative to the sysfs root. */
  public String path() {
    return node.isPresent()
        ? "devices/system/node/node"
            + node.getAsInt()
            + "/hugepages/"
            + size.sysfsName()
            + "/nr_hugepages"
        : "kernel/mm/hugepages/" + size.sysfsName() + "/nr_hugepages";
  }

  /** {@code 512 x 2M on node 0} or {@code 512 x 2M machine-wide}. */
  @Override
  public String toString() {
    return pages
        + " x "
        + size
        + (node.isPresent() ? " on node " + node.getAsInt() : " machine-wide");
  }
}
