package dev.upcie.doctor;

import java.nio.file.Path;

/** A file a check needs exists but could not be read; the check reports UNKNOWN. */
final class Unreadable extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient Path path;
  private final boolean denied;

  Unreadable(Path path, String reason, boolean denied) {
    super(path + " (" + reason + ")", null, false, false);
    this.path = path;
    this.denied = denied;
  }

  Path path() {
    return path;
  }

  /** True if it was a permission denied, which root would not have met. */
  boolean denied() {
    return denied;
  }
}
