package dev.upcie.sim.model;

/**
 * Where a device model signals interrupts: delivered to the driver through the same {@link
 * dev.upcie.interrupt.Interrupts} API the real backends give, when the driver enabled that mode.
 *
 * <p>As on the bus: an MSI or MSI-X message is a memory write, so it is lost while bus mastering is
 * off or the mode is not enabled; INTx is a level the device holds until it is quietened, delivered
 * once and then masked until the driver unmasks it (as vfio-pci does), and delivered again on
 * unmask if the device still holds it.
 */
public interface InterruptSink {

  /** True if the driver enabled MSI: the function's MSI capability has its enable bit set. */
  boolean msiEnabled();

  /** True if the driver enabled MSI-X. */
  boolean msixEnabled();

  /** Sends MSI message {@code vector}; lost unless MSI is enabled with that many vectors. */
  void msi(int vector);

  /** Sends MSI-X message {@code vector}; lost unless MSI-X is enabled with that many vectors. */
  void msix(int vector);

  /** Sets the level of the INTx line: true asserts it, false deasserts it. */
  void intx(boolean asserted);
}
