package dev.upcie.pci;

/** No PCI function has the address, or matches the selection, that was asked for. */
public final class PciFunctionNotFoundException extends PciException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message names what was looked for and where. */
  public PciFunctionNotFoundException(String message) {
    super(message);
  }
}
