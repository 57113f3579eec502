package dev.upcie.dma;

import dev.upcie.memory.AddressTranslation;
import dev.upcie.memory.DeviceAddress;
import java.lang.foreign.MemorySegment;

/**
 * Host memory a device can reach: the memory, and how its offsets become the addresses the device
 * is given. Closing it takes the device's access away (for an IOMMU, unmaps it); the memory itself
 * stays with its owner.
 */
public interface DmaMapping extends AutoCloseable {

  /** The memory, as the CPU sees it. */
  MemorySegment segment();

  /** How offsets in {@link #segment()} become device addresses. */
  AddressTranslation translation();

  /** The device address of the first byte. */
  default DeviceAddress deviceAddress() {
    return translation().translate(0);
  }

  /** Takes the device's access away; later calls do nothing. */
  @Override
  void close();
}
