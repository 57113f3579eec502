package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.PageSize;
import dev.upcie.hugepages.PoolWrite;
import dev.upcie.tools.ProcfsOption;
import dev.upcie.tools.SysfsOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcie hugepages release}: give pools back to the kernel. */
@Command(
    name = "release",
    mixinStandardHelpOptions = true,
    description = {
      "Give hugepages back to the kernel: every size, or one (--pagesize), machine-wide or on one"
          + " node (--node). Pages a process still maps stay until it unmaps them."
    })
public final class ReleaseCommand implements Callable<Integer> {
  @Mixin PageSizeOption pageSize;

  @Option(names = "--node", paramLabel = "N", description = "Only this NUMA node.")
  Integer node;

  @Option(names = "--dry-run", description = "Print every sysfs write instead of making it.")
  boolean dryRun;

  @Mixin SysfsOption sysfs;
  @Mixin ProcfsOption procfs;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Hugepages hugepages = HugepagesCommand.hugepages(sysfs, procfs);
    List<PageSize> sizes = pageSize.orAll(hugepages);
    List<PoolWrite> plan = new ArrayList<>();
    for (PageSize size : sizes) {
      plan.addAll(
          node == null
              ? hugepages.reservations().planTotal(size, 0)
              : hugepages.reservations().planSplit(size, Map.of(node, 0L)));
    }
    if (dryRun) {
      return PlanRunner.dryRun(hugepages, plan, spec.commandLine().getOut());
    }
    return PlanRunner.apply(
        hugepages, plan, spec.commandLine().getOut(), spec.commandLine().getErr());
  }
}
