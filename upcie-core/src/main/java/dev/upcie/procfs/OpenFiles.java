package dev.upcie.procfs;

import java.util.List;

/**
 * Who holds some files open, as far as this process could see.
 *
 * @param open each open file found, by process
 * @param uninspected how many processes' {@code fd} directories could not be read (other users'
 *     processes, without root): the files may be open there too
 */
public record OpenFiles(List<OpenFile> open, int uninspected) {

  /** Copies the list. */
  public OpenFiles {
    open = List.copyOf(open);
  }

  /** True if every process was inspected. */
  public boolean isComplete() {
    return uninspected == 0;
  }
}
