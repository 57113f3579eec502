package dev.upcie.sim;

import dev.upcie.dma.DmaException;
import dev.upcie.dma.DmaMapping;
import dev.upcie.dma.DmaSpace;
import dev.upcie.dma.IovaRange;
import dev.upcie.hugepages.PageSize;
import dev.upcie.memory.DmaHeap;
import dev.upcie.memory.DmaRegion;
import dev.upcie.memory.HugepageRegion;
import dev.upcie.sim.iommu.DmaAccess;
import dev.upcie.sim.iommu.SimIommu;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * A simulated function's view of host memory: IOVAs from the machine's {@link SimIommu}, as VFIO
 * gives them, kept below the device's DMA mask. {@link #map} takes real hugepages (the device model
 * then reads and writes them); {@link #heap(long)} takes ordinary memory, so tests need no
 * hugepages.
 */
final class SimDmaSpace implements DmaSpace {
  // IOVAs are aligned like the mapping's size, up to this, as the vfio backend aligns them.
  private static final long MAX_ALIGNMENT = 1L << 30;

  private final SimPciDeviceHandle handle;
  private final SimIommu iommu;
  private final int maskBits;

  SimDmaSpace(SimPciDeviceHandle handle, SimIommu iommu, int maskBits) {
    IovaRange.belowMask(maskBits);
    this.handle = handle;
    this.iommu = iommu;
    this.maskBits = maskBits;
  }

  @Override
  public int maskBits() {
    return maskBits;
  }

  @Override
  public DmaSpace withMask(int bits) {
    return new SimDmaSpace(handle, iommu, bits);
  }

  @Override
  public boolean translated() {
    return true;
  }

  @Override
  public List<IovaRange> ranges() {
    return iommu.apertures(IovaRange.belowMask(maskBits).last());
  }

  @Override
  public DmaMapping map(HugepageRegion region) {
    handle.checkOpen();
    return map(region.segment(), region.pageSize(), region.toString());
  }

  @Override
  public DmaHeap heap(long size) {
    handle.checkOpen();
    if (size <= 0) {
      throw new IllegalArgumentException("a DMA heap needs a positive size, not " + size);
    }
    PageSize page = PageSize.BASE;
    long rounded = Math.ceilDiv(size, page.bytes()) * page.bytes();
    Arena arena = Arena.ofShared();
    try {
      MemorySegment memory = arena.allocate(rounded, page.bytes());
      DmaMapping mapping = map(memory, page, "simulated host memory");
      return DmaHeap.builder()
          .region(
              DmaRegion.mapped(
                  memory,
                  page,
                  mapping.translation(),
                  () -> {
                    try {
                      mapping.close();
                    } finally {
                      arena.close();
                    }
                  }))
          .build();
    } catch (RuntimeException | OutOfMemoryError e) {
      arena.close();
      throw e;
    }
  }

  private DmaMapping map(MemorySegment segment, PageSize page, String what) {
    long size = segment.byteSize();
    long alignment = Math.max(page.bytes(), Math.min(Long.highestOneBit(size), MAX_ALIGNMENT));
    try {
      SimIommu.Mapping mapping =
          iommu.map(segment, alignment, IovaRange.belowMask(maskBits).last(), DmaAccess.READ_WRITE);
      return DmaMapping.ofIova(
          segment,
          mapping.iova(),
          mapping.iova() + ", " + segment.byteSize() + " bytes",
          () -> iommu.unmap(mapping));
    } catch (DmaException e) {
      throw new DmaException(
          "cannot map " + what + " for " + handle.address() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public String toString() {
    return "DmaSpace[" + handle.address() + ", simulated IOMMU, " + maskBits + "-bit mask]";
  }
}
