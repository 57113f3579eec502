package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.PageSize;
import dev.upcie.hugepages.PoolWrite;
import dev.upcie.support.Sizes;
import dev.upcie.tools.ProcfsOption;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.UsageException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code upcie hugepages reserve}: size a pool, machine-wide, per node, or split over nodes. */
@Command(
    name = "reserve",
    mixinStandardHelpOptions = true,
    description = {
      "Size a hugepage pool: machine-wide (the kernel spreads it over NUMA nodes), on every node"
          + " (--per-node), or split over nodes (0=4G,1=2G). Always writes the per-size sysfs"
          + " files, reads back what the kernel granted, and retries with memory compaction.",
      "Examples: reserve 4G | reserve --pages 1024 --pagesize 2M | reserve 2G --per-node |"
          + " reserve 0=4G,1=2G --pagesize 1G | reserve 4G --dry-run"
    })
public final class ReserveCommand implements Callable<Integer> {
  private static final Pattern SPLIT = Pattern.compile("\\d+=[^,=]+(,\\d+=[^,=]+)*");

  @Parameters(
      arity = "0..1",
      paramLabel = "AMOUNT",
      description = "How much: 4G, 512M... or a split over nodes such as 0=4G,1=2G.")
  String amount;

  @Option(names = "--pages", paramLabel = "N", description = "How many pages, instead of AMOUNT.")
  Long pages;

  @Mixin PageSizeOption pageSize;

  @Option(names = "--per-node", description = "Reserve the amount on every NUMA node.")
  boolean perNode;

  @Option(names = "--dry-run", description = "Print every sysfs write instead of making it.")
  boolean dryRun;

  @Option(
      names = "--force",
      description =
          "Ask even for more than the machine's memory (the kernel then takes every free page"
              + " on the way to refusing).")
  boolean force;

  @Mixin SysfsOption sysfs;
  @Mixin ProcfsOption procfs;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Hugepages hugepages = HugepagesCommand.hugepages(sysfs, procfs);
    PageSize size = pageSize.orDefault(hugepages);
    List<PoolWrite> plan = plan(hugepages, size);
    checkAgainstMemory(hugepages, plan);
    if (dryRun) {
      return PlanRunner.dryRun(hugepages, plan, spec.commandLine().getOut());
    }
    return PlanRunner.apply(
        hugepages, plan, spec.commandLine().getOut(), spec.commandLine().getErr());
  }

  /** A request beyond the machine's memory can only fail, after starving everything else. */
  private void checkAgainstMemory(Hugepages hugepages, List<PoolWrite> plan) {
    if (force || !hugepages.procfs().exists("meminfo")) {
      return;
    }
    Long memTotalKb = hugepages.procfs().meminfo().get("MemTotal");
    long asked = 0;
    try {
      for (PoolWrite write : plan) {
        // Each write fits in a long (the plan checks); their sum may not, and is then too much.
        asked = Math.addExact(asked, write.pages() * write.size().bytes());
      }
    } catch (ArithmeticException e) {
      asked = Long.MAX_VALUE;
    }
    if (memTotalKb != null && asked > memTotalKb << 10) {
      throw new UsageException(
          "asking for "
              + Sizes.human(asked)
              + " of hugepages, more than this machine's "
              + Sizes.human(memTotalKb << 10)
              + " of memory: the kernel would take every free page on the way to refusing; ask"
              + " for less, or add --force");
    }
  }

  private List<PoolWrite> plan(Hugepages hugepages, PageSize size) {
    if ((amount == null) == (pages == null)) {
      throw new UsageException(
          "give either an AMOUNT (such as 4G, or 0=4G,1=2G) or --pages N, not "
              + (amount == null ? "neither" : "both"));
    }
    if (amount != null && SPLIT.matcher(amount).matches()) {
      if (perNode) {
        throw new UsageException(
            "a split such as " + amount + " already names its nodes; drop --per-node");
      }
      Map<Integer, Long> split = new LinkedHashMap<>();
      for (String part : amount.split(",")) {
        String[] nodeAndAmount = part.split("=");
        int node;
        try {
          node = Integer.parseInt(nodeAndAmount[0]);
        } catch (NumberFormatException e) {
          throw new UsageException("there is no NUMA node " + nodeAndAmount[0]);
        }
        if (split.put(node, hugepages.pages(size, Sizes.parse(nodeAndAmount[1]))) != null) {
          throw new UsageException("node " + node + " appears twice in " + amount);
        }
      }
      return hugepages.reservations().planSplit(size, split);
    }
    long count = pages != null ? pages : hugepages.pages(size, Sizes.parse(amount));
    if (count < 0) {
      throw new UsageException("--pages must not be negative: " + count);
    }
    return perNode
        ? hugepages.reservations().planPerNode(size, count)
        : hugepages.reservations().planTotal(size, count);
  }
}
