package dev.upcie.doctor;

import dev.upcie.doctor.Finding.Status;
import dev.upcie.hugepages.HugepagePool;
import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.HugetlbfsMount;
import dev.upcie.hugepages.PageSize;
import dev.upcie.support.Sizes;
import dev.upcie.support.UpcieException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** What DMA memory needs: a locked-memory limit VFIO can pin under, hugepages, their mounts. */
final class MemoryChecks {
  /** The least DMA memory worth having: a heap of the size the examples use. */
  static final long MINIMUM_DMA = 64L << 20;

  private static final long CAP_IPC_LOCK = 1L << 14;

  private final Facts facts;
  private final Trees trees;
  private final Hugepages hugepages;
  private final OptionalLong need;

  MemoryChecks(Facts facts, OptionalLong need) {
    this.facts = facts;
    this.trees = facts.trees();
    this.hugepages = trees.host().hugepages();
    this.need = need;
  }

  Finding memlock() {
    String limitsFile = trees.procPath("self/limits").toString();
    Optional<String> limits = trees.proc("self/limits");
    if (limits.isEmpty()) {
      return Finding.of("memlock", Status.UNKNOWN, "no " + limitsFile, null);
    }
    Optional<String[]> line =
        limits
            .get()
            .lines()
            .filter(l -> l.startsWith("Max locked memory"))
            .findFirst()
            .map(l -> l.substring("Max locked memory".length()).strip().split("\\s+"));
    if (line.isEmpty() || line.get().length < 2) {
      return Finding.of(
          "memlock", Status.UNKNOWN, "no \"Max locked memory\" line in " + limitsFile, null);
    }
    OptionalLong soft = limit(line.get()[0]);
    OptionalLong hard = limit(line.get()[1]);
    String limit =
        "RLIMIT_MEMLOCK is "
            + (soft.isEmpty() ? "unlimited" : Sizes.human(soft.getAsLong()))
            + " ("
            + limitsFile
            + ")";
    if ((capabilities() & CAP_IPC_LOCK) != 0) {
      return Finding.ok(
          "memlock",
          limit
              + ", but this process has CAP_IPC_LOCK (CapEff in "
              + trees.procPath("self/status")
              + "), so no limit applies to what VFIO pins for it; a driver run as another user has"
              + " that user's limit");
    }
    if (soft.isEmpty()) {
      return Finding.ok("memlock", limit + ": VFIO may pin any amount of DMA memory");
    }
    long needed = needed();
    String want = Sizes.human(needed) + " of DMA memory " + needReason();
    if (soft.getAsLong() >= needed) {
      return Finding.ok("memlock", limit + ", enough for " + want);
    }
    Status status = facts.vfioPossible() ? Status.PROBLEM : Status.WARNING;
    String found =
        limit
            + ", less than the "
            + want
            + ": VFIO pins DMA memory and counts it against this limit, so mapping more fails"
            + " (for a systemd service: LimitMEMLOCK=infinity)";
    if (hard.isEmpty()) {
      return Finding.of("memlock", status, found, "ulimit -l unlimited");
    }
    if (hard.getAsLong() >= needed) {
      return Finding.of("memlock", status, found, "ulimit -l " + (needed >> 10));
    }
    return Finding.of(
        "memlock",
        status,
        found
            + "; the hard limit ("
            + Sizes.human(hard.getAsLong())
            + ") is below it too, so raise both for this user and log in again",
        "echo \"$(id -un) - memlock unlimited\" | sudo tee /etc/security/limits.d/90-upcie.conf");
  }

  /** What DMA needs: the caller's figure, else every reserved hugepage and at least 64 MiB. */
  private long needed() {
    if (need.isPresent()) {
      return need.getAsLong();
    }
    return Math.max(MINIMUM_DMA, reservedBytes());
  }

  private String needReason() {
    return need.isPresent()
        ? "asked for"
        : "(every reserved hugepage, at least " + Sizes.human(MINIMUM_DMA) + ")";
  }

  private long reservedBytes() {
    try {
      return hugepages.pools().stream().mapToLong(p -> p.total() * p.size().bytes()).sum();
    } catch (UpcieException e) {
      return 0;
    }
  }

  private long capabilities() {
    for (String line : trees.proc("self/status").orElse("").lines().toList()) {
      if (line.startsWith("CapEff:")) {
        try {
          return Long.parseUnsignedLong(line.substring("CapEff:".length()).strip(), 16);
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  private static OptionalLong limit(String word) {
    if (word.equals("unlimited")) {
      return OptionalLong.empty();
    }
    try {
      return OptionalLong.of(Long.parseLong(word));
    } catch (NumberFormatException e) {
      return OptionalLong.of(0);
    }
  }

  Finding hugepages() {
    String sizesDir = trees.sysPath("kernel/mm/hugepages").toString();
    if (!trees.sysExists("kernel/mm/hugepages")) {
      return Finding.of(
          "hugepages",
          Status.PROBLEM,
          "no "
              + sizesDir
              + ": this kernel has no hugepages (CONFIG_HUGETLBFS), and DMA memory comes from"
              + " them; use a kernel with it",
          null);
    }
    List<HugepagePool> pools = hugepages.pools();
    PageSize defaultSize = hugepages.defaultSize();
    long reserved = pools.stream().mapToLong(HugepagePool::total).sum();
    if (reserved == 0) {
      Optional<HugepagePool> overcommit =
          pools.stream().filter(p -> p.overcommit() > 0).findFirst();
      String fix = "upcie hugepages reserve " + suggestion(defaultSize);
      if (overcommit.isPresent()) {
        return Finding.of(
            "hugepages",
            Status.WARNING,
            "no hugepages are reserved ("
                + sizesDir
                + "/*/nr_hugepages), but "
                + overcommit.get().overcommit()
                + " "
                + overcommit.get().size()
                + " pages may be taken on demand (nr_overcommit_hugepages), which fails once"
                + " memory is fragmented",
            fix);
      }
      return Finding.of(
          "hugepages",
          Status.PROBLEM,
          "no hugepages are reserved (every "
              + sizesDir
              + "/*/nr_hugepages is 0), and DMA memory comes from them",
          fix);
    }
    List<String> parts = new ArrayList<>();
    long available = 0;
    for (HugepagePool pool : pools) {
      if (pool.total() == 0) {
        continue;
      }
      available += Math.max(0, pool.available());
      StringBuilder part =
          new StringBuilder()
              .append(pool.size())
              .append(": ")
              .append(pool.total())
              .append(" pages (")
              .append(Sizes.human(pool.total() * pool.size().bytes()))
              .append("), ")
              .append(pool.available())
              .append(" available");
      if (pool.nodes().size() > 1) {
        part.append(" (");
        part.append(
            String.join(
                ", ",
                pool.nodes().stream().map(n -> "node " + n.node() + ": " + n.total()).toList()));
        part.append(')');
      }
      parts.add(part.toString());
    }
    String found = "hugepages reserved in " + sizesDir + ": " + String.join("; ", parts);
    if (available == 0) {
      return Finding.of(
          "hugepages",
          Status.WARNING,
          found + "; every reserved page is in use or promised",
          "upcie hugepages reserve "
              + amount(
                  Math.max(
                      1L << 30, 2 * hugepages.pool(defaultSize).total() * defaultSize.bytes())));
    }
    return Finding.ok("hugepages", found);
  }

  Finding hugetlbfs() {
    if (!trees.sysExists("kernel/mm/hugepages")) {
      return Finding.ok("hugetlbfs", "no hugepages, so no hugetlbfs either");
    }
    List<HugetlbfsMount> mounts = hugepages.hugetlbfs().list();
    List<PageSize> withPages =
        hugepages.pools().stream().filter(p -> p.total() > 0).map(HugepagePool::size).toList();
    String mounted =
        mounts.isEmpty()
            ? "no hugetlbfs is mounted (" + trees.procPath("mounts") + ")"
            : "hugetlbfs mounted at "
                + String.join(
                    ", ",
                    mounts.stream().map(m -> m.mountPoint() + " (" + m.pageSize() + ")").toList())
                + " ("
                + trees.procPath("mounts")
                + ")";
    List<PageSize> unmounted =
        withPages.stream()
            .filter(s -> mounts.stream().noneMatch(m -> m.pageSize().equals(s)))
            .toList();
    if (unmounted.isEmpty()) {
      return Finding.ok("hugetlbfs", mounted);
    }
    return Finding.of(
        "hugetlbfs",
        Status.WARNING,
        mounted
            + "; none for the reserved "
            + String.join(", ", unmounted.stream().map(PageSize::toString).toList())
            + " pages: uPCIe allocates from a hugetlb memfd and needs no mount, DPDK and SPDK do",
        "upcie hugepages mount --pagesize " + unmounted.getFirst());
  }

  /**
   * An amount of the default size worth reserving (which {@code upcie hugepages reserve} takes
   * without {@code --pagesize}): 1 GiB, or an eighth of a small machine's memory, in whole pages.
   */
  private String suggestion(PageSize size) {
    long amount = 1L << 30;
    try {
      Long totalKb = trees.host().procfs().meminfo().get("MemTotal");
      if (totalKb != null) {
        amount = Math.min(amount, (totalKb << 10) / 8);
      }
    } catch (UpcieException e) {
      // No meminfo: 1 GiB it is.
    }
    return amount(Math.max(1, amount / size.bytes()) * size.bytes());
  }

  /** An amount as {@code upcie hugepages reserve} takes it: {@code 1G}, {@code 256M}. */
  static String amount(long bytes) {
    if (bytes % (1L << 30) == 0) {
      return (bytes >> 30) + "G";
    }
    return bytes % (1L << 20) == 0 ? (bytes >> 20) + "M" : (bytes >> 10) + "K";
  }
}
