package dev.upcie.sim.sysfs;

import dev.upcie.errno.Errno;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The kernel's hugepage pools: one per page size, per NUMA node, each able to grow to the pages a
 * kernel could still find. Stores to {@code nr_hugepages} go through {@link #resize}.
 */
final class HugepagePools {
  private final SysfsTree files;
  private final SysfsFaults faults;
  private final Map<Long, long[]> capacity;
  private final Map<Long, long[]> pages = new TreeMap<>();

  /**
   * @param capacityByKilobytes per page size, the pages each node can hold
   * @param atBoot per page size, the pages each node holds at boot (empty where not given)
   */
  HugepagePools(
      SysfsTree files,
      SysfsFaults faults,
      Map<Long, long[]> capacityByKilobytes,
      Map<Long, long[]> atBoot) {
    this.files = files;
    this.faults = faults;
    this.capacity = Map.copyOf(capacityByKilobytes);
    capacity.forEach((kb, perNode) ->
        pages.put(kb, atBoot.containsKey(kb) ? atBoot.get(kb).clone() : new long[perNode.length]));
  }

  /** Lays out the pools as they are at boot: the machine-wide directory and one per node. */
  void layOut() {
    capacity.forEach((kb, perNode) -> {
      String name = "hugepages-" + kb + "kB";
      for (String attribute :
          List.of("resv_hugepages", "surplus_hugepages", "nr_overcommit_hugepages")) {
        files.file("kernel/mm/hugepages/" + name + "/" + attribute, "0\n");
      }
      for (int node = 0; node < perNode.length; node++) {
        files.file(
            "devices/system/node/node" + node + "/hugepages/" + name + "/surplus_hugepages", "0\n");
      }
      show(kb);
    });
  }

  /**
   * The kernel's {@code nr_hugepages} store: grows a pool page by page, spreading a machine-wide
   * request over the nodes in turn, until it has the count asked for or no node has room; shrinks
   * it likewise. The file then shows what the pool got, which may be less than asked.
   *
   * @param node the node whose pool was written, -1 for the machine-wide file
   */
  synchronized void resize(SysfsStore store, long kb, int node) {
    long wanted = store.unsignedArgument();
    long[] perNode = pages.get(kb);
    long[] room = capacity.get(kb);
    if (perNode == null || node >= perNode.length) {
      throw store.refused(Errno.ENOENT);
    }
    long before = Arrays.stream(perNode).sum();
    boolean grows = node >= 0 ? wanted > perNode[node] : wanted > before;
    // An injected shortage: the kernel finds no more than this many new pages.
    long found = grows ? faults.takeHugepageLimit(kb).orElse(Long.MAX_VALUE / 2) : 0;
    long limit = before + Math.min(found, Long.MAX_VALUE / 2);
    if (node >= 0) {
      long others = before - perNode[node];
      perNode[node] =
          Math.min(Math.min(wanted, room[node]), Math.max(perNode[node], limit - others));
    } else if (wanted >= before) {
      // Grow node by node in turn, as the kernel's round-robin allocation does, until the pool has
      // what was asked, memory runs out, or an injected shortage stops it.
      long goal = Math.min(wanted, limit);
      long total = before;
      while (total < goal) {
        long share = Math.max(1, (goal - total) / perNode.length);
        boolean grew = false;
        for (int n = 0; n < perNode.length && total < goal; n++) {
          long take = Math.min(Math.min(share, room[n] - perNode[n]), goal - total);
          if (take > 0) {
            perNode[n] += take;
            total += take;
            grew = true;
          }
        }
        if (!grew) {
          break;
        }
      }
    } else {
      // Shrink from the last node back, as the kernel frees.
      long excess = before - wanted;
      for (int n = perNode.length - 1; n >= 0 && excess > 0; n--) {
        long give = Math.min(excess, perNode[n]);
        perNode[n] -= give;
        excess -= give;
      }
    }
    show(kb);
  }

  private void show(long kb) {
    long[] perNode = pages.get(kb);
    String name = "hugepages-" + kb + "kB";
    long total = Arrays.stream(perNode).sum();
    files.file("kernel/mm/hugepages/" + name + "/nr_hugepages", total + "\n");
    files.file("kernel/mm/hugepages/" + name + "/free_hugepages", total + "\n");
    for (int node = 0; node < perNode.length; node++) {
      String dir = "devices/system/node/node" + node + "/hugepages/" + name;
      files.file(dir + "/nr_hugepages", perNode[node] + "\n");
      files.file(dir + "/free_hugepages", perNode[node] + "\n");
    }
  }
}
