package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.ProcfsOption;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.UsageException;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code upcie hugepages}: pools, reservations and hugetlbfs mounts. Its subcommands are listed in
 * {@code Upcie.GROUPS}, which builds only the one invoked.
 */
@Command(
    name = "hugepages",
    mixinStandardHelpOptions = true,
    description = "Inspect and reserve hugepages, mount hugetlbfs.")
public final class HugepagesCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE.code();
  }

  /**
   * Refuses {@code --sysfs-root}/{@code --proc-root} for a command that changes this machine (a
   * mount cannot happen in a copied or simulated tree); they work with its {@code --dry-run}.
   */
  static void requireThisMachine(SysfsOption sysfs, ProcfsOption procfs, String command) {
    if (sysfs.isSet() || procfs.isSet()) {
      throw new UsageException(
          command
              + " acts on this machine, so --sysfs-root and --proc-root work only with --dry-run");
    }
  }

  /** The hugepages the options point at. */
  static Hugepages hugepages(SysfsOption sysfs, ProcfsOption procfs) {
    return new Hugepages(sysfs.sysfs(), procfs.procfs(sysfs));
  }
}
