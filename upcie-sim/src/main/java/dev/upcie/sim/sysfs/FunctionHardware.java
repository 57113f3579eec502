package dev.upcie.sim.sysfs;

/**
 * The hardware behind a simulated function, as the kernel reaches it through sysfs: the {@code
 * config} attribute reads and writes its configuration space, {@code reset} resets it. A function
 * with none keeps the configuration bytes it was laid out with, and has no reset method.
 */
public interface FunctionHardware {

  /** The configuration space now, as the {@code config} attribute shows it. */
  byte[] config();

  /** A write to the {@code config} attribute, already clipped to the configuration space. */
  void writeConfig(int offset, byte[] bytes);

  /**
   * A function-level reset through the {@code reset} attribute; the kernel saves and restores the
   * configuration space around it, so only the device's own state changes.
   *
   * @return false if the function has no reset method (the store then fails with ENOTTY)
   */
  boolean reset();
}
