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
}
