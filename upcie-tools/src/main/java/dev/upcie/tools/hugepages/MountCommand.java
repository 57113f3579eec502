package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.HugetlbfsMount;
import dev.upcie.hugepages.PageSize;
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

/** {@code upcie hugepages mount}: a hugetlbfs of one page size, directory created. */
@Command(
    name = "mount",
    mixinStandardHelpOptions = true,
    description = {
      "Mount hugetlbfs with one page size, creating the directory. Refuses a directory that"
          + " already has a hugetlbfs of another size, or anything else, mounted. Needs root."
    })
public final class MountCommand implements Callable<Integer> {
  @Parameters(
      arity = "0..1",
      paramLabel = "DIR",
      description =
          "Where (default: /dev/hugepages for the default size, /dev/hugepages-SIZE otherwise).")
  Path directory;

  @Mixin PageSizeOption pageSize;

  @Option(names = "--dry-run", description = "Print the commands instead of mounting.")
  boolean dryRun;

  @Mixin SysfsOption sysfs;
  @Mixin ProcfsOption procfs;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Hugepages hugepages = HugepagesCommand.hugepages(sysfs, procfs);
    PageSize size = pageSize.orDefault(hugepages);
    Path target =
        directory != null
            ? directory
            : size.equals(hugepages.defaultSize())
                ? Path.of("/dev/hugepages")
                : Path.of("/dev/hugepages-" + size);
    if (dryRun) {
      spec.commandLine().getOut().println(hugepages.hugetlbfs().mountCommand(target, size));
      spec.commandLine().getOut().flush();
      return ExitCode.OK.code();
    }
    HugepagesCommand.requireThisMachine(sysfs, procfs, "mount");
    HugetlbfsMount mount = hugepages.hugetlbfs().mount(target, size);
    spec.commandLine()
        .getOut()
        .println("hugetlbfs of " + mount.pageSize() + " pages at " + mount.mountPoint());
    spec.commandLine().getOut().flush();
    return ExitCode.OK.code();
  }
}
