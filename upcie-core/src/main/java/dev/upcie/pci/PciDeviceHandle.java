package dev.upcie.pci;

import dev.upcie.dma.DmaSpace;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.mmio.Mmio;

/**
 * An opened PCI function, ready for a driver: its identity, BARs, configuration space, DMA,
 * interrupts and reset.
 *
 * <p>This is the handle every driver in this toolkit is written against. The {@code vfio} backend
 * opens the function through VFIO, the {@code uio} backend through {@code uio_pci_generic}, the
 * simulator's carries a device model. A driver that only uses this interface runs unchanged on all
 * of them, which is what lets one test run in CI without hardware and against QEMU or a real device
 * at night. Get one from a {@link dev.upcie.backend.DeviceBackend} (or {@code @PciDevice} in a
 * test).
 *
 * <pre>{@code
 * PciSelector edu = PciSelector.any().withId(PciId.parse("1234:11e8"));
 * try (PciDeviceHandle device = DeviceBackends.named("vfio").open(edu, Host.system())) {
 *   device.config().enableBusMaster();
 *   Mmio bar0 = device.bar(0);
 *   int id = bar0.getIntVolatile(0x00);
 * }
 * }</pre>
 *
 * <p>Closing disables interrupts, unmaps the BARs and releases the device (on VFIO, its IOMMU group
 * and, with the last device, the container). DMA heaps from {@link #dma()} belong to the caller and
 * should be closed first. Anything used after close throws instead of touching unmapped memory.
 * Closing twice is harmless.
 */
public interface PciDeviceHandle extends AutoCloseable {

  /** What sysfs said about the function when it was opened. */
  PciFunction function();

  /** The function's address. */
  default PciAddress address() {
    return function().address();
  }

  /** The backend that opened it, such as {@code vfio}, {@code uio} or {@code sim}. */
  String backend();

  /**
   * The memory-mapped BAR {@code index} (0 to 5), mapped on first use.
   *
   * @throws IllegalArgumentException if the index is not 0 to 5
   * @throws PciException if the function has no such memory BAR, or it cannot be mapped
   * @throws IllegalStateException if the handle is closed
   */
  Mmio bar(int index);

  /**
   * The configuration space.
   *
   * @throws IllegalStateException if the handle is closed
   */
  ConfigSpace config();

  /**
   * The device's view of host memory, with a 64-bit DMA mask; narrow it with {@link
   * DmaSpace#withMask(int)}.
   *
   * @throws dev.upcie.support.NotSupportedException if the backend cannot give the device DMA
   * @throws IllegalStateException if the handle is closed
   */
  DmaSpace dma();

  /**
   * The function's interrupts.
   *
   * @throws dev.upcie.support.NotSupportedException if the backend cannot deliver interrupts
   * @throws IllegalStateException if the handle is closed
   */
  Interrupts interrupts();

  /** True if {@link #reset()} can reset this function. */
  boolean canReset();

  /**
   * Resets the function (on VFIO {@code VFIO_DEVICE_RESET}, on UIO the sysfs {@code reset}
   * attribute: a function-level reset where the function has one).
   *
   * @throws dev.upcie.support.NotSupportedException if the function has no reset method
   */
  void reset();

  /** Disables interrupts, unmaps the BARs and releases the device. */
  @Override
  void close();
}
