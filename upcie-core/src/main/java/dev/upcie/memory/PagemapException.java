package dev.upcie.memory;

import dev.upcie.support.UpcieException;

/** Physical addresses are not available: the page is not present, or the kernel hides them. */
public final class PagemapException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message says why and what to do. */
  public PagemapException(String message) {
    super(message);
  }

  /** Creates the exception with the failure that caused it. */
  public PagemapException(String message, Throwable cause) {
    super(message, cause);
  }
}
