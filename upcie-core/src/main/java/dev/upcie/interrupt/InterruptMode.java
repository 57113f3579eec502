package dev.upcie.interrupt;

/** How a PCI function signals an interrupt. */
public enum InterruptMode {
  /** The legacy pin (INTA# to INTD#): one vector, level-triggered, masked until acknowledged. */
  INTX("INTx"),
  /** Message Signalled Interrupts: up to 32 vectors, a memory write by the device. */
  MSI("MSI"),
  /** MSI-X: up to 2048 vectors, each with its own address and mask in a table in a BAR. */
  MSIX("MSI-X");

  private final String label;

  InterruptMode(String label) {
    this.label = label;
  }

  /** {@code INTx}, {@code MSI} or {@code MSI-X}, as the specifications write them. */
  @Override
  public String toString() {
    return label;
  }
}
