package dev.upcie.memory;

import dev.upcie.hugepages.PageSize;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * Memory a {@link DmaHeap} allocates from, with the way its offsets become device addresses.
 *
 * <pre>{@code
 * DmaRegion uio = DmaRegion.physical(HugepageRegion.allocate(64 << 20, PageSize.parse("2M")));
 * DmaRegion vfio = DmaRegion.iova(HugepageRegion.allocate(64 << 20, size), new Iova(0x100000000L));
 * }</pre>
 *
 * <p>A region made from a {@link HugepageRegion} belongs to the heap it is given to: the heap
 * closes it, and closing it directly while the heap is open throws.
 */
public final class DmaRegion {
  private final MemorySegment segment;
  private final PageSize pageSize;
  private final AddressTranslation translation;
  private final HugepageRegion owned;
  private final AutoCloseable unmap;

  private DmaRegion(
      MemorySegment segment,
      PageSize pageSize,
      AddressTranslation translation,
      HugepageRegion owned,
      AutoCloseable unmap) {
    this.segment = Objects.requireNonNull(segment, "segment");
    this.pageSize = Objects.requireNonNull(pageSize, "pageSize");
    this.translation = Objects.requireNonNull(translation, "translation");
    this.owned = owned;
    this.unmap = unmap;
    if ((segment.address() & (pageSize.bytes() - 1)) != 0
        || segment.byteSize() % pageSize.bytes() != 0
        || segment.byteSize() == 0) {
      throw new IllegalArgumentException(
          "a DMA region is a whole number of " + pageSize + " pages on a page boundary");
    }
    if (translation instanceof PhysicalTranslation table
        && (!table.pageSize().equals(pageSize)
            || (long) table.pageCount() * pageSize.bytes() != segment.byteSize())) {
      throw new IllegalArgumentException(
          "the physical table has "
              + table.pageCount()
              + " pages of "
              + table.pageSize()
              + " but the region is "
              + segment.byteSize() / pageSize.bytes()
              + " pages of "
              + pageSize);
    }
  }

  /**
   * Hugepages whose device addresses are physical: for UIO, where no IOMMU translates. Reads {@code
   * /proc/self/pagemap} now. The region is handed over: if this fails, it is closed.
   *
   * @throws PagemapException if this process may not see physical addresses (not root)
   */
  public static DmaRegion physical(HugepageRegion region) {
    try {
      return new DmaRegion(
          region.segment(), region.pageSize(), region.physicalTranslation(), region, null);
    } catch (RuntimeException e) {
      region.close();
      throw e;
    }
  }

  /** Hugepages mapped through an IOMMU at {@code base}: for VFIO. */
  public static DmaRegion iova(HugepageRegion region, Iova base) {
    return new DmaRegion(
        region.segment(),
        region.pageSize(),
        // The base's own alignment is what offsets keep; IOVA 0 is aligned to everything.
        new IovaTranslation(base, base.value() == 0 ? 1L << 62 : Long.lowestOneBit(base.value())),
        region,
        null);
  }

  /**
   * Hugepages a device reaches through {@code translation}, a mapping that {@code unmap} undoes:
   * what a {@link dev.upcie.dma.DmaSpace} makes. The heap given this region closes the mapping
   * first, so the device can no longer reach the memory, then the hugepages.
   */
  public static DmaRegion mapped(
      HugepageRegion region, AddressTranslation translation, AutoCloseable unmap) {
    return new DmaRegion(
        region.segment(),
        region.pageSize(),
        translation,
        region,
        Objects.requireNonNull(unmap, "unmap"));
  }

  /**
   * Page-aligned memory that is not a {@link HugepageRegion} (a simulated machine's), reached
   * through {@code translation}; the heap given this region calls {@code release} when it closes,
   * which takes the device's access away and frees the memory.
   */
  public static DmaRegion mapped(
      MemorySegment segment,
      PageSize pageSize,
      AddressTranslation translation,
      AutoCloseable release) {
    return new DmaRegion(
        segment, pageSize, translation, null, Objects.requireNonNull(release, "release"));
  }

  /**
   * Any page-aligned memory with its translation, physical or IOVA (a simulated IOMMU maps memory
   * at an IOVA base, for instance). The caller keeps the memory mapped until the heap is closed.
   *
   * @throws IllegalArgumentException if a physical table does not cover the region page for page
   */
  public static DmaRegion of(
      MemorySegment segment, PageSize pageSize, AddressTranslation translation) {
    return new DmaRegion(segment, pageSize, translation, null, null);
  }

  /** The memory. */
  public MemorySegment segment() {
    return segment;
  }

  /** The page size: the unit of physical contiguity when addresses are physical. */
  public PageSize pageSize() {
    return pageSize;
  }

  /** How offsets become device addresses. */
  public AddressTranslation translation() {
    return translation;
  }

  HugepageRegion owned() {
    return owned;
  }

  AutoCloseable unmap() {
    return unmap;
  }
}
