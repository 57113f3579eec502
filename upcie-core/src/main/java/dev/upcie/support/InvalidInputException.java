package dev.upcie.support;

/**
 * The caller asked for something malformed or impossible: an unparsable size or address, a page
 * size the kernel lacks, an amount that is not a whole number of pages. Nothing was changed. Tools
 * report it as a usage error.
 */
public class InvalidInputException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message quotes the input and says what would be accepted. */
  public InvalidInputException(String message) {
    super(message);
  }
}
