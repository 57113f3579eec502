package dev.upcie.tools;

import dev.upcie.errno.CarriesErrno;
import dev.upcie.errno.Errno;
import dev.upcie.pci.PciFunctionNotFoundException;
import dev.upcie.support.InvalidInputException;

/** The exit statuses of {@code upcie}, so scripts can tell failures apart. */
public enum ExitCode {
  /** Done. */
  OK(0),
  /** The operation failed: the kernel or the device refused. */
  FAILURE(1),
  /** The command line was wrong: unknown option, malformed address, missing directory. */
  USAGE(2),
  /** The device or function named does not exist. */
  NOT_FOUND(3),
  /** The operation needs privileges this user lacks (usually root). */
  NO_PERMISSION(4),
  /** The kernel did part of it: a hugepage reservation got fewer pages than asked. */
  PARTIAL(5);

  private final int code;

  ExitCode(int code) {
    this.code = code;
  }

  /** The process exit status. */
  public int code() {
    return code;
  }

  /** The status a failure maps to, looking through its causes for a permission error. */
  static ExitCode of(Throwable failure) {
    if (failure instanceof InvalidInputException) {
      return USAGE;
    }
    if (failure instanceof PciFunctionNotFoundException) {
      return NOT_FOUND;
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof CarriesErrno e && (e.is(Errno.EACCES) || e.is(Errno.EPERM))) {
        return NO_PERMISSION;
      }
    }
    return FAILURE;
  }
}
