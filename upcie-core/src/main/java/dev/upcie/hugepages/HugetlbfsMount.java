package dev.upcie.hugepages;

import java.nio.file.Path;
import java.util.List;

/**
 * A mounted hugetlbfs: files created in it are backed by hugepages of its page size.
 *
 * @param mountPoint where it is mounted
 * @param pageSize its page size ({@code pagesize=} option, else the default size)
 * @param options all mount options as {@code /proc/mounts} shows them
 */
public record HugetlbfsMount(Path mountPoint, PageSize pageSize, List<String> options) {

  /** Copies the options. */
  public HugetlbfsMount {
    options = List.copyOf(options);
  }
}
