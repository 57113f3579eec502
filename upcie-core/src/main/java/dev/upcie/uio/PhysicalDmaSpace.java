package dev.upcie.uio;

import dev.upcie.dma.DmaException;
import dev.upcie.dma.DmaMapping;
import dev.upcie.dma.DmaSpace;
import dev.upcie.dma.IovaRange;
import dev.upcie.host.Host;
import dev.upcie.hugepages.PageSize;
import dev.upcie.memory.AddressTranslation;
import dev.upcie.memory.DmaHeap;
import dev.upcie.memory.HugepageRegion;
import dev.upcie.memory.PhysicalTranslation;
import dev.upcie.support.Sizes;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A device's memory without an IOMMU: hugepages given to the device by physical address (from
 * pagemap, which needs root). Memory the device cannot reach, wholly or in part above its DMA mask,
 * is refused: without an IOMMU nothing would stop the device writing elsewhere.
 */
final class PhysicalDmaSpace implements DmaSpace {
  private final UioPciDevice device;
  private final Host host;
  private final int maskBits;

  PhysicalDmaSpace(UioPciDevice device, Host host, int maskBits) {
    this.device = device;
    this.host = host;
    this.maskBits = maskBits;
    IovaRange.belowMask(maskBits);
  }

  @Override
  public int maskBits() {
    return maskBits;
  }

  @Override
  public DmaSpace withMask(int bits) {
    return new PhysicalDmaSpace(device, host, bits);
  }

  @Override
  public boolean translated() {
    return false;
  }

  @Override
  public List<IovaRange> ranges() {
    return List.of(IovaRange.belowMask(maskBits));
  }

  @Override
  public DmaMapping map(HugepageRegion region) {
    device.checkOpen();
    PhysicalTranslation pages = region.physicalTranslation();
    long limit = IovaRange.belowMask(maskBits).last();
    long pageBytes = pages.pageSize().bytes();
    for (int i = 0; i < pages.pageCount(); i++) {
      long first = pages.page(i).value();
      if (first > limit || limit - first < pageBytes - 1) {
        throw new DmaException(
            "the "
                + pages.pageSize()
                + " hugepage at "
                + pages.page(i)
                + " (page "
                + (i + 1)
                + " of "
                + pages.pageCount()
                + " of "
                + region
                + ") lies above the "
                + maskBits
                + "-bit DMA mask of "
                + device.function().summary()
                + ": the device reaches physical addresses below 0x"
                + Long.toHexString(limit + 1)
                + " ("
                + Sizes.human(limit + 1)
                + ") only; take hugepages from a NUMA node whose memory lies below it"
                + " (HugepageRegion.allocate(size, pageSize, node)), or use an IOMMU (the vfio"
                + " backend)");
      }
    }
    return new DmaMapping() {
      @Override
      public MemorySegment segment() {
        return region.segment();
      }

      @Override
      public AddressTranslation translation() {
        return pages;
      }

      @Override
      public void close() {
        // Nothing to undo: without an IOMMU the device reaches all memory anyway.
      }
    };
  }

  @Override
  public DmaHeap heap(long size) {
    PageSize pageSize = host.hugepages().defaultSize();
    long rounded = Math.ceilDiv(size, pageSize.bytes()) * pageSize.bytes();
    return heap(HugepageRegion.allocate(rounded, pageSize));
  }

  @Override
  public String toString() {
    return "DmaSpace[" + device.function().address() + ", physical, " + maskBits + "-bit mask]";
  }
}
