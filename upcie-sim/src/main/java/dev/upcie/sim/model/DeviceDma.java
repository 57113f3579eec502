package dev.upcie.sim.model;

import java.lang.foreign.MemorySegment;

/**
 * A device model's access to host memory: through the simulated IOMMU, as a real device's DMA goes
 * through the real one.
 *
 * <p>An access is refused when any of it falls outside the mappings the driver made, lies above the
 * device's DMA mask, needs a permission the mapping lacks, or happens while bus mastering is off. A
 * refused access is recorded as a {@link DmaFault} (in the machine's fault log and trace) and does
 * what QEMU's does: a read fills the device's buffer with zeros, a write is dropped. The model
 * carries on, as hardware does.
 */
public interface DeviceDma {

  /**
   * Reads {@code destination.byteSize()} bytes of host memory at device address {@code address}
   * into {@code destination}.
   *
   * @return true if it was read; false if it faulted (and {@code destination} holds zeros)
   */
  boolean read(long address, MemorySegment destination);

  /**
   * Writes {@code source} to host memory at device address {@code address}.
   *
   * @return true if it was written; false if it faulted (and nothing was written)
   */
  boolean write(long address, MemorySegment source);

  /**
   * Reads {@code length} bytes of host memory at {@code address} into {@code destination} from
   * {@code offset}, without slicing it: a model's hot path allocates nothing.
   *
   * @return true if it was read; false if it faulted (and those bytes hold zeros)
   */
  boolean read(long address, MemorySegment destination, long offset, long length);

  /**
   * Writes {@code length} bytes of {@code source} from {@code offset} to host memory at {@code
   * address}, without slicing it.
   *
   * @return true if it was written; false if it faulted (and nothing was written)
   */
  boolean write(long address, MemorySegment source, long offset, long length);

  /** Reads a little-endian 32-bit value; 0 on a fault. */
  int readInt(long address);

  /** Reads a little-endian 64-bit value; 0 on a fault. */
  long readLong(long address);

  /** Writes a little-endian 32-bit value; false on a fault. */
  boolean writeInt(long address, int value);
}
