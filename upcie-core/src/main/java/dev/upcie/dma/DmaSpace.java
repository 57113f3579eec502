package dev.upcie.dma;

import dev.upcie.memory.DmaHeap;
import dev.upcie.memory.DmaRegion;
import dev.upcie.memory.HugepageRegion;
import java.util.List;

/**
 * A device's view of host memory: maps memory for the device and hands out {@link DmaHeap}s whose
 * buffers carry the address the device must use.
 *
 * <p>Behind an IOMMU (VFIO) the addresses are {@link dev.upcie.memory.Iova}s from an allocator that
 * keeps within the IOMMU's apertures and the device's DMA mask, and memory is pinned and mapped
 * with the IOMMU. Without one (UIO) they are {@link dev.upcie.memory.PhysicalAddress}es, and memory
 * the device cannot reach (above its mask) is refused.
 *
 * <pre>{@code
 * DmaSpace dma = edu.dma().withMask(28);                 // edu reaches 28 bits
 * try (DmaHeap heap = dma.heap(2 << 20);
 *     DmaBuffer buffer = heap.allocate(4096)) {
 *   bar0.putLongVolatile(0x80, buffer.deviceAddress().value());
 * }
 * }</pre>
 *
 * <p>A device's DMA mask is what its driver declares, not what the kernel guesses ({@code
 * dma_mask_bits} in sysfs says 32 for QEMU's {@code edu}, which reaches 28): the default here is 64
 * bits, and {@link #withMask(int)} narrows it.
 */
public interface DmaSpace {

  /** The DMA mask: the device reaches addresses below {@code 2^maskBits()}. */
  int maskBits();

  /**
   * This device's view with a DMA mask of {@code bits} bits: every address it hands out lies below
   * {@code 2^bits}. Mappings already made keep their addresses.
   *
   * @throws IllegalArgumentException unless 1 to 64 bits
   */
  DmaSpace withMask(int bits);

  /** True if an IOMMU translates the device's addresses (they are IOVAs); false for physical. */
  boolean translated();

  /** The device addresses this space may hand out: the IOMMU's apertures, cut at the mask. */
  List<IovaRange> ranges();

  /**
   * Makes {@code region} reachable by the device. The region stays the caller's; close the mapping
   * before the region.
   *
   * @throws DmaException if the memory cannot be made reachable (above the mask without an IOMMU,
   *     no IOVA space left, the IOMMU refused), saying what to do
   */
  DmaMapping map(HugepageRegion region);

  /**
   * A heap over {@code size} bytes (rounded up to whole pages) of fresh hugepages of the machine's
   * default size, mapped for the device. Closing the heap unmaps and frees everything.
   *
   * @throws DmaException as for {@link #map}
   * @throws dev.upcie.support.UpcieException if there are not enough free hugepages
   */
  DmaHeap heap(long size);

  /**
   * A heap over {@code region}, mapped for the device; the heap now owns the region, and closing
   * the heap unmaps it and closes it. If this fails, the region is closed.
   *
   * @throws DmaException as for {@link #map}
   */
  default DmaHeap heap(HugepageRegion region) {
    DmaMapping mapping;
    try {
      mapping = map(region);
    } catch (RuntimeException e) {
      region.close();
      throw e;
    }
    try {
      return DmaHeap.builder()
          .region(DmaRegion.mapped(region, mapping.translation(), mapping))
          .build();
    } catch (RuntimeException e) {
      try {
        mapping.close();
      } finally {
        region.close();
      }
      throw e;
    }
  }
}
