package dev.upcie.support;

/**
 * The base of every failure this toolkit reports on purpose.
 *
 * <p>The message is written for the person at the terminal: what was attempted, on which device or
 * path, what the kernel said, and what to do about it. Tools print it as one line; tests show it as
 * the failure reason. Programming errors (a negative offset, a null argument) stay ordinary {@link
 * IllegalArgumentException}s and friends.
 */
public class UpcieException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message says what failed, where, and what to do. */
  public UpcieException(String message) {
    super(message);
  }

  /** Creates an exception with a message and the lower-level failure that caused it. */
  public UpcieException(String message, Throwable cause) {
    super(message, cause);
  }
}
