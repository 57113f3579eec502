package dev.upcie.pci;

import dev.upcie.support.InvalidInputException;

/** A PCI address could not be parsed; the message quotes the input and the accepted forms. */
public final class InvalidPciAddressException extends InvalidInputException {
  private static final long serialVersionUID = 1L;

  InvalidPciAddressException(String input, String reason) {
    super(
        "invalid PCI address \""
            + input
            + "\": "
            + reason
            + " (expected dddd:bb:dd.f or bb:dd.f in hexadecimal, e.g. 0000:00:04.0)");
  }
}
