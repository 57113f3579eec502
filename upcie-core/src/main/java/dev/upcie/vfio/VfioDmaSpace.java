package dev.upcie.vfio;

import dev.upcie.dma.DmaException;
import dev.upcie.dma.DmaMapping;
import dev.upcie.dma.DmaSpace;
import dev.upcie.dma.IovaRange;
import dev.upcie.host.Host;
import dev.upcie.hugepages.PageSize;
import dev.upcie.kernel.Memlock;
import dev.upcie.memory.DmaHeap;
import dev.upcie.memory.HugepageRegion;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A device's memory behind the IOMMU: IOVAs from the container's allocator, kept within its
 * apertures and below the device's DMA mask; memory pinned and mapped with {@code
 * VFIO_IOMMU_MAP_DMA}, for every device of the container.
 */
final class VfioDmaSpace implements DmaSpace {
  // IOVAs are aligned like the mapping's size, up to this, so big buffers keep their alignment.
  private static final long MAX_ALIGNMENT = 1L << 30;

  private final VfioPciDevice device;
  private final VfioContainer container;
  private final Host host;
  private final int maskBits;

  VfioDmaSpace(VfioPciDevice device, VfioContainer container, Host host, int maskBits) {
    this.device = device;
    this.container = container;
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
    return new VfioDmaSpace(device, container, host, bits);
  }

  @Override
  public boolean translated() {
    return true;
  }

  @Override
  public List<IovaRange> ranges() {
    return container.iovas().apertures(IovaRange.belowMask(maskBits).last());
  }

  @Override
  public DmaMapping map(HugepageRegion region) {
    device.checkOpen();
    MemorySegment segment = region.segment();
    long size = segment.byteSize();
    Memlock.check(host, size, "map " + region + " for " + device.address());
    long alignment =
        Math.max(region.pageSize().bytes(), Math.min(Long.highestOneBit(size), MAX_ALIGNMENT));
    try {
      // The mapping holds a container reference until it is undone.
      VfioContainer.IommuMapping mapping =
          container.map(segment, alignment, IovaRange.belowMask(maskBits).last());
      return DmaMapping.ofIova(
          segment,
          mapping.iova(),
          mapping.iova() + ", " + mapping.size() + " bytes",
          () -> container.unmap(mapping));
    } catch (DmaException e) {
      throw new DmaException(
          "cannot map " + region + " for " + device.address() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public DmaHeap heap(long size) {
    PageSize pageSize = host.hugepages().defaultSize();
    long rounded = Math.ceilDiv(size, pageSize.bytes()) * pageSize.bytes();
    return heap(HugepageRegion.allocate(rounded, pageSize));
  }

  @Override
  public String toString() {
    return "DmaSpace[" + device.address() + ", IOMMU, " + maskBits + "-bit mask]";
  }
}
