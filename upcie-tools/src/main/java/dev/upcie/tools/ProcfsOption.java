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
   * The chosen procfs.
   *
   * @throws UsageException if the named directory does not exist
   */
  public Procfs procfs() {
    if (root == null) {
      return Procfs.system();
    }
    if (!Files.isDirectory(root)) {
      throw new UsageException("--proc-root " + root + ": no such directory");
    }
    return Procfs.of(root);
  }
}
