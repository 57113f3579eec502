package dev.upcie.pci;

import dev.upcie.support.UpcieException;

/** A PCI function is absent, unreadable, or could not be bound as asked. */
public class PciException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message says what failed, on which function, and what to do. */
  public PciException(String message) {
    super(message);
  }

  /** Creates an exception with the lower-level failure that caused it. */
  public PciException(String message, Throwable cause) {
    super(message, cause);
  }
}
