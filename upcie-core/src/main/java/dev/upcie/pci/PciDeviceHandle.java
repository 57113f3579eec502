package dev.upcie.pci;

import dev.upcie.mmio.Mmio;

/**
 * An opened PCI function, ready for a driver: its identity and its BARs.
 *
 * <p>This is the handle every driver in this toolkit is written against. The real implementation
 * opens the function through VFIO; the simulator's carries a device model. A driver that only uses
 * this interface runs unchanged on both, which is what lets one test run in CI without hardware and
 * against QEMU or a real device at night.
 *
 * <pre>{@code
 * try (PciDeviceHandle nvme = VfioPciDevice.open(Sysfs.system(), PciAddress.parse("0000:01:00.0"))) {
 *   Mmio bar0 = nvme.bar(0);
 *   long cap = bar0.getLongVolatile(0x0);
 * }
 * }</pre>
 *
 * <p>Closing releases every mapping; a BAR used after that throws instead of touching unmapped
 * memory. Closing twice is harmless.
 */
public interface PciDeviceHandle extends AutoCloseable {

  /** What sysfs said about the function when it was opened. */
  PciFunction function();

  /** The function's address. */
  default PciAddress address() {
    return function().address();
  }

  /** Which implementation this is, such as {@code vfio} or {@code sim}, for messages and logs. */
  String backend();

  /**
   * The memory-mapped BAR {@code index} (0 to 5), mapped on first use.
   *
   * @throws PciException if the function has no such memory BAR or it cannot be mapped
   * @throws IllegalStateException if the handle is closed
   */
  Mmio bar(int index);

  /** Unmaps the BARs and releases the device. */
  @Override
  void close();
}
