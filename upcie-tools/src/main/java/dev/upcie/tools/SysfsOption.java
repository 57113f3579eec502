package dev.upcie.tools;

import dev.upcie.sysfs.Sysfs;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --sysfs-root DIR}: read another sysfs tree instead of the machine's. */
public final class SysfsOption {
  @Option(
      names = "--sysfs-root",
      paramLabel = "DIR",
      description =
          "Read this sysfs tree instead of /sys: a copy, a recording, or a simulated machine's"
              + " export.")
  Path root;

  /** True if the user named a tree. */
  public boolean isSet() {
    return root != null;
  }

  /**
   * The chosen sysfs.
   *
   * @throws UsageException if the named directory does not exist
   */
  public Sysfs sysfs() {
    if (root == null) {
      return Sysfs.system();
    }
    if (!Files.isDirectory(root)) {
      throw new UsageException(
          "--sysfs-root "
              + root
              + ": "
              + (Files.exists(root) ? "not a directory" : "no such directory"));
    }
    return Sysfs.of(root);
  }
}
