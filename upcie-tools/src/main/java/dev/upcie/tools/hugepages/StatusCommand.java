package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.HugepagePool;
import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.HugetlbfsMount;
import dev.upcie.hugepages.PageSize;
import dev.upcie.support.Sizes;
import dev.upcie.support.UpcieException;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.ProcfsOption;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.output.Json;
import dev.upcie.tools.output.Table;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code upcie hugepages status}: every pool per size and node, the mounts, the memlock limit. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "Show every hugepage pool per size and NUMA node, the hugetlbfs mounts, the sizes without a"
          + " mount, and the locked-memory limit. Needs no root."
    })
public final class StatusCommand implements Callable<Integer> {
  /** The JSON schema name and version of {@code --json}. */
  static final String SCHEMA = "upcie.hugepages.status/1";

  @Mixin SysfsOption sysfs;
  @Mixin ProcfsOption procfs;

  @Option(names = "--json", description = "Print JSON (schema " + SCHEMA + ") instead of text.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Hugepages hugepages = HugepagesCommand.hugepages(sysfs, procfs);
    List<HugepagePool> pools = hugepages.pools();
    List<HugetlbfsMount> mounts = hugepages.hugetlbfs().list();
    List<PageSize> unmounted = hugepages.hugetlbfs().sizesWithoutMount();
    OptionalLong memlock = memlock();
    spec.commandLine()
        .getOut()
        .print(
            json
                ? json(pools, mounts, unmounted, memlock)
                : text(pools, mounts, unmounted, memlock));
    spec.commandLine().getOut().flush();
    return ExitCode.OK.code();
  }

  /** Empty when unlimited; -1 when the tree does not say. */
  private OptionalLong memlock() {
    try {
      return procfs.procfs(sysfs).memlockLimit();
    } catch (UpcieException e) {
      return OptionalLong.of(-1);
    }
  }

  private static String text(
      List<HugepagePool> pools,
      List<HugetlbfsMount> mounts,
      List<PageSize> unmounted,
      OptionalLong memlock) {
    Table table =
        new Table("SIZE", "NODE", "TOTAL", "FREE", "RESERVED", "SURPLUS", "OVERCOMMIT", "MEMORY");
    for (HugepagePool pool : pools) {
      table.row(
          pool.size() + (pool.isDefault() ? " (default)" : ""),
          "all",
          Long.toString(pool.total()),
          Long.toString(pool.free()),
          Long.toString(pool.reserved()),
          Long.toString(pool.surplus()),
          Long.toString(pool.overcommit()),
          Sizes.human(pool.total() * pool.size().bytes()));
      for (HugepagePool.NodePool node : pool.nodes()) {
        table.row(
            pool.size().toString(),
            Integer.toString(node.node()),
            Long.toString(node.total()),
            Long.toString(node.free()),
            "-",
            Long.toString(node.surplus()),
            "-",
            Sizes.human(node.total() * pool.size().bytes()));
      }
    }
    StringBuilder out = new StringBuilder(table.toString()).append('\n');
    if (mounts.isEmpty()) {
      out.append("no hugetlbfs is mounted\n");
    } else {
      Table mountTable = new Table("MOUNT", "PAGESIZE", "OPTIONS");
      for (HugetlbfsMount mount : mounts) {
        mountTable.row(
            mount.mountPoint().toString(),
            mount.pageSize().toString(),
            String.join(",", mount.options()));
      }
      out.append(mountTable);
    }
    for (PageSize size : unmounted) {
      out.append("no hugetlbfs mount for ")
          .append(size)
          .append(" pages (upcie hugepages mount --pagesize ")
          .append(size)
          .append(")\n");
    }
    out.append("locked-memory limit: ")
        .append(
            memlock.isEmpty()
                ? "unlimited"
                : memlock.getAsLong() < 0 ? "unknown" : Sizes.human(memlock.getAsLong()))
        .append(" (root is exempt; other users can lock no more than this)\n");
    return out.toString();
  }

  private static String json(
      List<HugepagePool> pools,
      List<HugetlbfsMount> mounts,
      List<PageSize> unmounted,
      OptionalLong memlock) {
    List<Object> poolList = new ArrayList<>();
    for (HugepagePool pool : pools) {
      Map<String, Object> p = new LinkedHashMap<>();
      p.put("size_kb", pool.size().kilobytes());
      p.put("default", pool.isDefault());
      p.put("total", pool.total());
      p.put("free", pool.free());
      p.put("reserved", pool.reserved());
      p.put("surplus", pool.surplus());
      p.put("overcommit", pool.overcommit());
      List<Object> nodes = new ArrayList<>();
      for (HugepagePool.NodePool node : pool.nodes()) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("node", node.node());
        n.put("total", node.total());
        n.put("free", node.free());
        n.put("surplus", node.surplus());
        nodes.add(n);
      }
      p.put("nodes", nodes);
      poolList.add(p);
    }
    List<Object> mountList = new ArrayList<>();
    for (HugetlbfsMount mount : mounts) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("path", mount.mountPoint().toString());
      m.put("pagesize_kb", mount.pageSize().kilobytes());
      m.put("options", List.copyOf(mount.options()));
      mountList.add(m);
    }
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("schema", SCHEMA);
    document.put("pools", poolList);
    document.put("mounts", mountList);
    document.put(
        "sizes_without_mount_kb", unmounted.stream().map(s -> (Object) s.kilobytes()).toList());
    document.put(
        "memlock_limit_bytes",
        memlock.isEmpty() ? null : memlock.getAsLong() < 0 ? null : memlock.getAsLong());
    document.put("memlock_unlimited", memlock.isEmpty());
    return Json.write(document);
  }
}
