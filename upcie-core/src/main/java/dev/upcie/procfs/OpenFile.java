package dev.upcie.procfs;

/**
 * A file a process holds open, as its {@code /proc/<pid>/fd} link shows.
 *
 * @param pid the process
 * @param command its command name ({@code comm})
 * @param path the file, as the link names it ({@code /dev/vfio/5})
 */
public record OpenFile(long pid, String command, String path) {

  /** {@code /dev/vfio/5 is open in process 1234 (java)}. */
  @Override
  public String toString() {
    return path + " is open in process " + pid + " (" + command + ")";
  }
}
