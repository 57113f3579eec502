package dev.upcie.tools;

import dev.upcie.procfs.Procfs;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --proc-root DIR}: read another procfs tree instead of the machine's. */
public final class ProcfsOption {
  @Option(
      names = "--proc-root",
      paramLabel = "DIR",
      description = "Read this procfs tree (meminfo, mounts, self/limits) instead of /proc.")
  Path root;

  /** True if the user named a tree. */
  public boolean isSet() {
    return root != null;
  }

  /**
   * The chosen procfs: the named tree, else the simulated machine's when it stands in for the
   * kernel ({@code --sysfs-root sim:q35}), else {@code /proc}.
   *
   * @throws UsageException if the named directory does not exist
   */
  public Procfs procfs(SysfsOption sysfs) {
    if (root == null) {
      return sysfs.isSimulated() ? sysfs.simulatedMachine().procfs() : Procfs.system();
    }
    if (!Files.isDirectory(root)) {
      throw new UsageException("--proc-root " + root + ": no such directory");
    }
    return Procfs.of(root);
  }
}
