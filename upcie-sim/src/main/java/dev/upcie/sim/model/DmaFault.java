package dev.upcie.sim.model;

import dev.upcie.pci.PciAddress;

/**
 * A device access to host memory that the simulated IOMMU refused: the access did nothing (a read
 * gave the device zeros, as QEMU's unassigned memory does, a write was dropped) and the driver
 * under test has a bug to find.
 *
 * @param device the function that tried
 * @param address the device address it used
 * @param size how many bytes
 * @param direction read or write of host memory
 * @param reason why it was refused
 * @param nanos when, on the machine's clock
 */
public record DmaFault(
    PciAddress device,
    long address,
    long size,
    DmaDirection direction,
    DmaFault.Reason reason,
    long nanos) {

  /** Why an access was refused. */
  public enum Reason {
    /** Some of it falls outside every mapping: unmapped or freed memory, a wrong address. */
    NOT_MAPPED,
    /** It lies above what the device can address (its DMA mask). */
    ABOVE_MASK,
    /** The mapping does not allow it: a write to memory mapped read-only. */
    PERMISSION,
    /** Bus mastering is off in the function's command register. */
    BUS_MASTER_OFF,
    /** The device was surprise-removed. */
    DEVICE_REMOVED
  }

  @Override
  public String toString() {
    return String.format(
        "DMA fault: %s %s %d bytes at 0x%x: %s",
        device, direction == DmaDirection.READ ? "read" : "write", size, address, reason);
  }
}
