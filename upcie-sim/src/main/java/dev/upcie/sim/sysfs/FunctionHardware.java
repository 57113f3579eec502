package dev.upcie.sim.sysfs;

/**
 * The hardware behind a simulated function, as the kernel reaches it through sysfs: the {@code
 * config} attribute reads and writes its configuration space, {@code reset} resets it. A function
 * with none keeps the configuration bytes it was laid out with, and has no reset method (and so no
 * {@code reset} attribute).
 *
 * <p>Thread-safety: {@link #config()} and {@link #writeConfig} are called from any thread that
 * reads or writes the attribute, without a lock of the kernel's, so they must be thread-safe;
 * {@link #reset()} runs under the function's lock, as the kernel's {@code device_lock}.
 */
public interface FunctionHardware {

  /** The configuration space now, as the {@code config} attribute shows it. */
  byte[] config();

  /** A write to the {@code config} attribute, already clipped to the configuration space. */
  void writeConfig(int offset, byte[] bytes);

  /**
   * True if the function has a reset method; only then does the kernel show its {@code reset}
   * attribute.
   */
  boolean canReset();

  /**
   * A function-level reset through the {@code reset} attribute; the kernel saves and restores the
   * configuration space around it, so only the device's own state changes.
   */
  void reset();
}
