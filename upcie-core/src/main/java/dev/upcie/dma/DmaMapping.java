package dev.upcie.dma;

import dev.upcie.memory.AddressTranslation;
import dev.upcie.memory.DeviceAddress;
import dev.upcie.memory.Iova;
import dev.upcie.memory.IovaTranslation;
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

  /**
   * A mapping of {@code segment} at {@code iova} in an IOMMU, for implementations: offsets keep the
   * IOVA's own alignment, and the first {@link #close()} runs {@code unmap}, later ones nothing.
   *
   * @param what what it is, for {@code toString}: {@code DmaMapping[what]}
   */
  static DmaMapping ofIova(MemorySegment segment, Iova iova, String what, Runnable unmap) {
    AddressTranslation translation = new IovaTranslation(iova, Long.lowestOneBit(iova.value()));
    return new DmaMapping() {
      private boolean closed;

      @Override
      public MemorySegment segment() {
        return segment;
      }

      @Override
      public AddressTranslation translation() {
        return translation;
      }

      @Override
      public synchronized void close() {
        if (!closed) {
          closed = true;
          unmap.run();
        }
      }

      @Override
      public String toString() {
        return "DmaMapping[" + what + "]";
      }
    };
  }
}
