package dev.upcie.sim;

import dev.upcie.mmio.Mmio;
import java.util.Optional;

/**
 * A simulated device model: what sits behind a simulated function's BARs.
 *
 * <p>The toolkit's models are {@link dev.upcie.sim.nvme.SimNvmeController} (and, later, QEMU's
 * {@code edu}); implement this interface to simulate your own device and test your driver against
 * it.
 */
public interface SimDevice {

  /** The memory BAR {@code index}, empty if the device does not implement it. */
  Optional<Mmio> bar(int index);

  /** True if the device has a reset method ({@link #reset()} works); false unless overridden. */
  default boolean resettable() {
    return false;
  }

  /**
   * Resets the device as its function-level reset does.
   *
   * @throws UnsupportedOperationException unless {@link #resettable()}
   */
  default void reset() {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " has no reset");
  }
}
