package dev.upcie.tools;

import dev.upcie.support.InvalidInputException;

/**
 * The command line asked for something malformed; {@code upcie} exits with {@link ExitCode#USAGE}.
 */
public final class UsageException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message quotes the bad input and says what is expected. */
  public UsageException(String message) {
    super(message);
  }
}
