package dev.upcie.procfs;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One line of {@code /proc/mounts}.
 *
 * @param source the mounted device or name, such as {@code nodev} or {@code hugetlbfs}
 * @param mountPoint where it is mounted
 * @param type the file system type, such as {@code hugetlbfs}
 * @param options the mount options, such as {@code rw} and {@code pagesize=2M}
 */
public record MountEntry(String source, Path mountPoint, String type, List<String> options) {

  /** The value of option {@code name=value}, if present. */
  public Optional<String> option(String name) {
    String prefix = name + "=";
    return options.stream()
        .filter(o -> o.startsWith(prefix))
        .map(o -> o.substring(prefix.length()))
        .findFirst();
  }
}
