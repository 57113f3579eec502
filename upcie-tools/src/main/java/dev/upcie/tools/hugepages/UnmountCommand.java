package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.ProcfsOption;
import dev.upcie.tools.SysfsOption;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code upcie hugepages unmount DIR}. */
@Command(
    name = "unmount",
    mixinStandardHelpOptions = true,
    description = "Unmount a hugetlbfs. Refuses anything that is not one. Needs root.")
public final class UnmountCommand implements Callable<Integer> {
  @Parameters(paramLabel = "DIR", description = "The hugetlbfs mount point.")
  Path directory;

  @Option(names = "--dry-run", description = "Print the command instead of unmounting.")
  boolean dryRun;

  @Mixin SysfsOption sysfs;
  @Mixin ProcfsOption procfs;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Hugepages hugepages = HugepagesCommand.hugepages(sysfs, procfs);
    if (dryRun) {
      spec.commandLine().getOut().println("umount " + directory.toAbsolutePath().normalize());
      spec.commandLine().getOut().flush();
      return ExitCode.OK.code();
    }
    HugepagesCommand.requireThisMachine(sysfs, procfs, "unmount");
    hugepages.hugetlbfs().unmount(directory);
    spec.commandLine().getOut().println("unmounted " + directory.toAbsolutePath().normalize());
    spec.commandLine().getOut().flush();
    return ExitCode.OK.code();
  }
}
