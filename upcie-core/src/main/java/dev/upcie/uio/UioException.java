package dev.upcie.uio;

import dev.upcie.support.UpcieException;

/** Opening or using a device through UIO failed; the message says why and what to do. */
public final class UioException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message says what failed, on which device, and what to do. */
  public UioException(String message) {
    super(message);
  }

  /** Creates an exception with the lower-level failure that caused it. */
  public UioException(String message, Throwable cause) {
    super(message, cause);
  }
}
