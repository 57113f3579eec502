package dev.upcie.memory;

import dev.upcie.hugepages.PageSize;
import dev.upcie.support.Sizes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Allocates DMA memory from one or more {@link DmaRegion}s and hands it out as {@link DmaBuffer}s.
 *
 * <p>A buddy allocator per region: sizes round up to a power of two of the granule (4 KiB by
 * default), blocks are aligned to their size, free blocks merge with their buddies. Every operation
 * is O(log n); the bookkeeping lives outside the DMA memory, so no device write can corrupt it, and
 * allocating costs no objects beyond the buffer handle (the {@link DmaBuffer}, its arena and its
 * segment view: 176 bytes, see docs/benchmarks.md). Thread-safe.
 *
 * <p>Arrays ({@link #allocateArray}) never put an element across a hugepage boundary where device
 * addresses are physical, so every element is physically contiguous: queue entries, PRP lists.
 *
 * <pre>{@code
 * try (DmaHeap heap = DmaHeap.builder()
 *         .region(DmaRegion.physical(HugepageRegion.allocate(64 << 20, PageSize.parse("2M"))))
 *         .build();
 *     DmaBuffer queue = heap.allocateArray(1024, 64)) {
 *   ...
 * }
 * }</pre>
 *
 * <p>Misuse throws {@link DmaHeapException} and leaves the heap as it was: a double free, a buffer
 * of another heap, a size of 0, an alignment that is not a power of two, or exhaustion (the message
 * gives the size asked, the bytes free and the largest free block).
 */
public final class DmaHeap implements AutoCloseable {
  /** The default allocation unit: a base page, the NVMe memory page. */
  public static final long DEFAULT_GRANULE = 4096;

  private final DmaRegion[] regions;
  private final BuddyAllocator[] allocators;
  private final DmaBuffer[][] outstanding;
  private final long granule;
  private final int granuleShift;
  private final long capacity;
  private final long maxAlignment;
  private long buffers;
  private boolean closed;

  private DmaHeap(List<DmaRegion> regions, long granule) {
    this.regions = regions.toArray(DmaRegion[]::new);
    this.granule = granule;
    this.granuleShift = Long.numberOfTrailingZeros(granule);
    this.allocators = new BuddyAllocator[this.regions.length];
    this.outstanding = new DmaBuffer[this.regions.length][];
    long total = 0;
    long alignment = 0;
    for (int i = 0; i < this.regions.length; i++) {
      alignment = Math.max(alignment, this.regions[i].translation().maxAlignment());
      long units = this.regions[i].segment().byteSize() >>> granuleShift;
      if (units > Integer.MAX_VALUE) {
        throw new IllegalArgumentException(
            "a region of "
                + Sizes.human(this.regions[i].segment().byteSize())
                + " has too many granules; use a larger granule");
      }
      allocators[i] = new BuddyAllocator((int) units);
      outstanding[i] = new DmaBuffer[(int) units];
      total += this.regions[i].segment().byteSize();
    }
    this.capacity = total;
    this.maxAlignment = alignment;
  }

  /** Starts a heap: add regions, optionally choose the granule. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A heap over {@code size} bytes of fresh hugepages with physical device addresses: the setup a
   * UIO driver needs. Needs root (for the physical addresses).
   */
  public static DmaHeap physical(long size, PageSize pageSize) {
    HugepageRegion region = HugepageRegion.allocate(size, pageSize);
    try {
      return builder().region(DmaRegion.physical(region)).build();
    } catch (RuntimeException e) {
      region.close();
      throw e;
    }
  }

  /** Allocates {@code size} bytes, granule-aligned, for the calling thread. */
  public DmaBuffer allocate(long size) {
    return allocate(size, granule, DmaBuffer.Scope.CONFINED);
  }

  /** Allocates {@code size} bytes aligned to {@code alignment}, for the calling thread. */
  public DmaBuffer allocate(long size, long alignment) {
    return allocate(size, alignment, DmaBuffer.Scope.CONFINED);
  }

  /**
   * Allocates {@code size} bytes whose device address is aligned to {@code alignment}; the CPU
   * address shares that alignment up to the page size (beyond it, only an IOVA is aligned).
   *
   * @throws DmaHeapException if the size or alignment is invalid or the heap is exhausted
   */
  public synchronized DmaBuffer allocate(long size, long alignment, DmaBuffer.Scope scope) {
    checkOpen();
    checkSizeAndAlignment(size, alignment);
    int order = order(Math.max(size, alignment));
    for (int r = 0; r < regions.length; r++) {
      if (alignment <= regions[r].translation().maxAlignment()) {
        DmaBuffer buffer = take(r, order, size, scope);
        if (buffer != null) {
          return buffer;
        }
      }
    }
    throw exhausted(size, alignment);
  }

  /**
   * Allocates an array of {@code count} elements of {@code elementSize}, for the calling thread.
   */
  public DmaBuffer allocateArray(long count, long elementSize) {
    return allocateArray(count, elementSize, granule, DmaBuffer.Scope.CONFINED);
  }

  /**
   * Allocates {@code count} elements of {@code elementSize} bytes, none of which crosses a hugepage
   * boundary where device addresses are physical.
   *
   * @throws DmaHeapException if an element cannot be kept within a hugepage (larger than one, or an
   *     array larger than one whose element size does not divide the page size), or as for {@link
   *     #allocate(long, long, DmaBuffer.Scope)}
   */
  public synchronized DmaBuffer allocateArray(
      long count, long elementSize, long alignment, DmaBuffer.Scope scope) {
    checkOpen();
    if (count <= 0 || elementSize <= 0) {
      throw new DmaHeapException(
          "an array needs a positive count and element size, not " + count + " x " + elementSize);
    }
    long size;
    try {
      size = Math.multiplyExact(count, elementSize);
    } catch (ArithmeticException e) {
      throw new DmaHeapException(count + " x " + elementSize + " bytes overflows");
    }
    checkSizeAndAlignment(size, alignment);
    int order = order(Math.max(size, alignment));
    String refusal = null;
    for (int r = 0; r < regions.length; r++) {
      DmaRegion region = regions[r];
      long page = region.pageSize().bytes();
      boolean physical = region.translation() instanceof PhysicalTranslation;
      // A block no larger than a page lies within one (blocks are aligned to their size); a
      // larger one starts on a page boundary, so elements that divide the page never straddle.
      if (physical && size > page && (elementSize > page || page % elementSize != 0)) {
        refusal =
            "an array of "
                + count
                + " x "
                + elementSize
                + " bytes would put elements across "
                + region.pageSize()
                + " hugepage boundaries, where physical addresses are not contiguous; use an"
                + " element size that divides "
                + region.pageSize()
                + ", or allocate the elements one by one";
        continue;
      }
      if (alignment <= region.translation().maxAlignment()) {
        DmaBuffer buffer = take(r, order, size, scope);
        if (buffer != null) {
          return buffer;
        }
      }
    }
    if (refusal != null) {
      throw new DmaHeapException(refusal);
    }
    throw exhausted(size, alignment);
  }

  /** {@link DmaBuffer#close()}: frees once, and later calls (from any thread) do nothing. */
  synchronized void freeIfLive(DmaBuffer buffer) {
    if (!buffer.freed) {
      free(buffer);
    }
  }

  /**
   * Returns {@code buffer}'s memory to the heap and closes its segment.
   *
   * @throws DmaHeapException if the buffer was already freed or belongs to another heap
   * @throws WrongThreadException if a {@link DmaBuffer.Scope#CONFINED} buffer is freed by another
   *     thread than the one that allocated it
   */
  public synchronized void free(DmaBuffer buffer) {
    Objects.requireNonNull(buffer, "buffer");
    if (buffer.heap != this) {
      throw new DmaHeapException("foreign buffer: " + buffer + " was allocated by another heap");
    }
    if (buffer.freed || outstanding[buffer.region][buffer.block] != buffer) {
      throw new DmaHeapException("double free of " + buffer);
    }
    // Close first: if this thread may not, nothing has changed yet.
    buffer.closeSegment();
    buffer.freed = true;
    outstanding[buffer.region][buffer.block] = null;
    allocators[buffer.region].free(buffer.block);
    buffers--;
  }

  /** The heap's figures now. */
  public synchronized DmaHeapStats stats() {
    long free = 0;
    long largest = 0;
    for (BuddyAllocator allocator : allocators) {
      free += allocator.freeUnits() << granuleShift;
      int order = allocator.largestFreeOrder();
      if (order >= 0) {
        largest = Math.max(largest, granule << order);
      }
    }
    return new DmaHeapStats(capacity, free, largest, buffers);
  }

  /** The allocation unit. */
  public long granule() {
    return granule;
  }

  /**
   * Frees every buffer still allocated, undoes the device mappings of its regions (so the device
   * can no longer reach them), then closes the hugepage regions the heap owns. Later calls do
   * nothing.
   *
   * @throws IllegalStateException if buffers confined to other threads are still allocated: the
   *     regions then stay mapped, since those threads could still use them
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    int stuck = 0;
    for (DmaBuffer[] perRegion : outstanding) {
      for (DmaBuffer buffer : perRegion) {
        if (buffer != null) {
          try {
            free(buffer);
          } catch (WrongThreadException e) {
            stuck++;
          }
        }
      }
    }
    if (stuck > 0) {
      throw new IllegalStateException(
          stuck
              + " buffers confined to other threads are still allocated; free them on their"
              + " threads before closing the heap");
    }
    closed = true;
    RuntimeException failure = null;
    for (DmaRegion region : regions) {
      try {
        // The device loses its view of the memory before the memory goes back to the kernel.
        if (region.unmap() != null) {
          region.unmap().close();
        }
      } catch (Exception e) {
        failure = collect(failure, e);
      }
      try {
        if (region.owned() != null) {
          region.owned().release(this);
        }
      } catch (RuntimeException e) {
        failure = collect(failure, e);
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  private static RuntimeException collect(RuntimeException first, Exception next) {
    if (first == null) {
      return next instanceof RuntimeException r ? r : new IllegalStateException(next);
    }
    first.addSuppressed(next);
    return first;
  }

  @Override
  public synchronized String toString() {
    DmaHeapStats stats = stats();
    return "DmaHeap["
        + Sizes.human(stats.capacity())
        + ", "
        + Sizes.human(stats.free())
        + " free, "
        + stats.buffers()
        + " buffers]";
  }

  private DmaBuffer take(int r, int order, long size, DmaBuffer.Scope scope) {
    int block = allocators[r].allocate(order);
    if (block < 0) {
      return null;
    }
    long offset = (long) block << granuleShift;
    Arena arena = scope == DmaBuffer.Scope.SHARED ? Arena.ofShared() : Arena.ofConfined();
    MemorySegment segment = reinterpret(regions[r].segment().address() + offset, size, arena);
    DmaBuffer buffer =
        new DmaBuffer(this, r, block, offset, size, arena, segment, regions[r].translation());
    outstanding[r][block] = buffer;
    buffers++;
    return buffer;
  }

  @SuppressWarnings("restricted")
  private static MemorySegment reinterpret(long address, long size, Arena arena) {
    // A view with its own lifetime: closing it on free makes use-after-free throw. The region
    // stays mapped while the heap is open (the heap owns it), so the view never dangles.
    return MemorySegment.ofAddress(address).reinterpret(size, arena, null);
  }

  private int order(long bytes) {
    long units = (bytes + granule - 1) >>> granuleShift;
    return 64 - Long.numberOfLeadingZeros(units - 1);
  }

  private void checkSizeAndAlignment(long size, long alignment) {
    if (size <= 0) {
      throw new DmaHeapException("cannot allocate " + size + " bytes: the size must be positive");
    }
    if (alignment <= 0 || Long.bitCount(alignment) != 1) {
      throw new DmaHeapException("alignment " + alignment + " is not a power of two");
    }
    if (alignment > maxAlignment) {
      throw new DmaHeapException(
          "alignment "
              + Sizes.human(alignment)
              + " cannot be honoured in device address space: physical addresses are only as"
              + " aligned as their "
              + Sizes.human(maxAlignment)
              + " pages");
    }
  }

  private DmaHeapException exhausted(long size, long alignment) {
    DmaHeapStats stats = stats();
    return new DmaHeapException(
        "cannot allocate "
            + Sizes.human(size)
            + " (aligned to "
            + Sizes.human(Math.max(alignment, granule))
            + ") from "
            + Sizes.human(stats.capacity())
            + " of DMA memory: "
            + Sizes.human(stats.free())
            + " free, largest free block "
            + Sizes.human(stats.largestFree())
            + ", "
            + stats.buffers()
            + " buffers allocated");
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("the DMA heap is closed");
    }
  }

  /** Configures a {@link DmaHeap}. */
  public static final class Builder {
    private final List<DmaRegion> regions = new ArrayList<>();
    private long granule = DEFAULT_GRANULE;

    private Builder() {}

    /** Adds a region; a hugepage-backed one now belongs to the heap. */
    public Builder region(DmaRegion region) {
      regions.add(Objects.requireNonNull(region, "region"));
      return this;
    }

    /**
     * The allocation unit: a power of two from 64 bytes up to the smallest region page size.
     * Smaller granules waste less on small buffers; each costs about 14 to 18 bytes of bookkeeping
     * (the allocator's ten and a reference to the buffer that starts there).
     */
    public Builder granule(long granule) {
      if (granule < 64 || Long.bitCount(granule) != 1) {
        throw new IllegalArgumentException("the granule must be a power of two of at least 64");
      }
      this.granule = granule;
      return this;
    }

    /**
     * The heap.
     *
     * @throws IllegalArgumentException if there is no region or the granule exceeds a page
     * @throws IllegalStateException if a region already belongs to another heap
     */
    public DmaHeap build() {
      if (regions.isEmpty()) {
        throw new IllegalArgumentException("a DMA heap needs at least one region");
      }
      for (DmaRegion region : regions) {
        if (granule > region.pageSize().bytes()) {
          throw new IllegalArgumentException(
              "the granule " + granule + " exceeds the region page size " + region.pageSize());
        }
      }
      for (int i = 0; i < regions.size(); i++) {
        MemorySegment a = regions.get(i).segment();
        for (int j = i + 1; j < regions.size(); j++) {
          MemorySegment b = regions.get(j).segment();
          if (a.address() < b.address() + b.byteSize()
              && b.address() < a.address() + a.byteSize()) {
            throw new IllegalArgumentException(
                "regions "
                    + i
                    + " and "
                    + j
                    + " overlap: the heap would hand out the same memory twice");
          }
        }
      }
      DmaHeap heap = new DmaHeap(regions, granule);
      List<HugepageRegion> leased = new ArrayList<>();
      try {
        for (DmaRegion region : regions) {
          if (region.owned() != null) {
            region.owned().lease(heap);
            leased.add(region.owned());
          }
        }
      } catch (RuntimeException e) {
        // Leave no region owned by a heap nobody can close.
        leased.forEach(r -> r.unlease(heap));
        throw e;
      }
      return heap;
    }
  }
}
