package dev.upcie.sim.model;

import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciAddress;
import dev.upcie.sim.trace.Trace;

/**
 * What a simulated machine gives a device model when it attaches it to a function: the device's
 * side of the bus.
 */
public interface ModelContext {

  /** The function the model sits behind. */
  PciAddress address();

  /** The device's access to host memory, through the simulated IOMMU. */
  DeviceDma dma();

  /** Where the device signals interrupts. */
  InterruptSink interrupts();

  /**
   * The machine's clock, for work that completes later. Work that throws makes the device fatal
   * instead of killing the clock's thread.
   */
  Scheduler scheduler();

  /** The function's configuration space as the device sees it (the driver's writes included). */
  ConfigSpace config();

  /** The machine's trace, for the model's own notes. */
  Trace trace();

  /**
   * Declares the device dead, as QEMU's {@code hw_error} aborts the VM: the reason is recorded in
   * the trace and on the machine, and every later access by the driver throws {@link
   * IllegalStateException} with it. Use it for what would take the real machine down, never for
   * errors a device reports to its driver.
   */
  void fatal(String reason);
}
