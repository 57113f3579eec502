package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.ProcfsOption;
import dev.upcie.tools.SysfsOption;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code upcie hugepages}: pools, reservations and hugetlbfs mounts. */
@Command(
    name = "hugepages",
    mixinStandardHelpOptions = true,
    description = "Inspect and reserve hugepages, mount hugetlbfs.",
    subcommands = {
      StatusCommand.class,
      ReserveCommand.class,
      ReleaseCommand.class,
      MountCommand.class,
      UnmountCommand.class
    })
public final class HugepagesCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE.code();
  }

  /** The hugepages the options point at. */
  static Hugepages hugepages(SysfsOption sysfs, ProcfsOption procfs) {
    return new Hugepages(sysfs.sysfs(), procfs.procfs(sysfs));
  }
}
