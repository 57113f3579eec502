package dev.upcie.vfio;

import dev.upcie.support.UpcieException;

/** Opening or using a device through VFIO failed; the message says why and what to do. */
public final class VfioException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message says what failed, on which device, and what to do. */
  public VfioException(String message) {
    super(message);
  }

  /** Creates an exception with the lower-level failure that caused it. */
  public VfioException(String message, Throwable cause) {
    super(message, cause);
  }
}
