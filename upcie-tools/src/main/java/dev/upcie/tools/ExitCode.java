package dev.upcie.tools;

import dev.upcie.errno.CarriesErrno;
import dev.upcie.errno.Errno;
import dev.upcie.pci.BindRefusedException;
import dev.upcie.pci.PciFunctionNotFoundException;
import dev.upcie.support.EnvironmentException;
import dev.upcie.support.InvalidInputException;

/**
 * The exit statuses of {@code upcie}, so scripts can tell failures apart. They are stable: a status
 * keeps its number and meaning across releases, and new ones get new numbers.
 */
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
  /**
   * Part of it was done: a hugepage reservation got fewer pages than asked, a listing left out
   * functions it could not read.
   */
  PARTIAL(5),
  /**
   * A safety check refused it, and nothing was changed: the function holds a mounted filesystem,
   * its device node is open. The message names the check and the {@code --force=NAME} that
   * overrides it.
   */
  REFUSED(6),
  /**
   * The machine is not set up for it, and nothing was changed: no IOMMU, a kernel module that
   * cannot be loaded, a kernel interface this kernel lacks. The message says how to set it up.
   */
  ENVIRONMENT(7);

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
    if (failure instanceof BindRefusedException) {
      return REFUSED;
    }
    if (failure instanceof EnvironmentException) {
      return ENVIRONMENT;
    }
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof CarriesErrno e && (e.is(Errno.EACCES) || e.is(Errno.EPERM))) {
        return NO_PERMISSION;
      }
    }
    return FAILURE;
  }
}
