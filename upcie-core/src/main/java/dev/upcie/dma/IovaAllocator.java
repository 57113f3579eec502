package dev.upcie.dma;

import dev.upcie.memory.Iova;
import dev.upcie.support.Sizes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Hands out I/O virtual address ranges from the apertures an IOMMU translates, and takes them back.
 *
 * <p>First fit from the lowest address, aligned as asked, below a limit (a device's DMA mask);
 * freed ranges merge with their neighbours, so addresses are reused. One allocator serves every
 * device of a VFIO container, whose devices share one IOVA space; each asks with its own limit.
 * Thread-safe.
 *
 * <pre>{@code
 * IovaAllocator iovas = new IovaAllocator(List.of(new IovaRange(0x10000, (1L << 39) - 1)));
 * Iova base = iovas.allocate(2 << 20, 2 << 20, IovaRange.belowMask(28).last());
 * ...
 * iovas.free(base, 2 << 20);
 * }</pre>
 */
public final class IovaAllocator {
  /**
   * The lowest IOVA ever handed out: 64 KiB, as libvfn and QEMU's vfio helpers do, so that a zero
   * or small bogus address in a descriptor never reaches mapped memory. Apertures are cut there.
   */
  public static final long DEFAULT_FIRST = 0x10000;

  /** The highest IOVA when the kernel reports no apertures: 39 bits, what every IOMMU offers. */
  public static final long DEFAULT_LAST = (1L << 39) - 1;

  private final List<IovaRange> apertures;
  private final TreeMap<Long, Long> free = new TreeMap<>();

  /**
   * An allocator over {@code apertures}, which must not overlap; what lies below {@link
   * #DEFAULT_FIRST} is left out.
   *
   * @throws IllegalArgumentException if there are none above 64 KiB, or they overlap
   */
  public IovaAllocator(List<IovaRange> apertures) {
    List<IovaRange> usable = new ArrayList<>();
    for (IovaRange range : apertures) {
      if (range.last() >= DEFAULT_FIRST) {
        usable.add(new IovaRange(Math.max(range.first(), DEFAULT_FIRST), range.last()));
      }
    }
    if (usable.isEmpty()) {
      throw new IllegalArgumentException(
          "an IOVA allocator needs an aperture above 64 KiB, not " + apertures);
    }
    this.apertures = List.copyOf(usable);
    for (IovaRange range : this.apertures) {
      Map.Entry<Long, Long> below = free.floorEntry(range.last());
      Map.Entry<Long, Long> above = free.ceilingEntry(range.first());
      if ((below != null && below.getValue() >= range.first())
          || (above != null && above.getKey() <= range.last())) {
        throw new IllegalArgumentException("IOVA apertures overlap: " + apertures);
      }
      free.put(range.first(), range.last());
    }
  }

  /** An allocator over {@code [64 KiB, 2^39)}, for kernels that report no apertures. */
  public static IovaAllocator withDefaultAperture() {
    return new IovaAllocator(List.of(new IovaRange(DEFAULT_FIRST, DEFAULT_LAST)));
  }

  /** The apertures, as given. */
  public List<IovaRange> apertures() {
    return apertures;
  }

  /** The apertures as far as a device whose highest address is {@code limit} reaches. */
  public List<IovaRange> apertures(long limit) {
    List<IovaRange> reachable = new ArrayList<>();
    IovaRange mask = new IovaRange(0, limit);
    for (IovaRange range : apertures) {
      IovaRange part = range.intersection(mask);
      if (part != null) {
        reachable.add(part);
      }
    }
    return reachable;
  }

  /**
   * Takes {@code size} bytes of IOVA space aligned to {@code alignment}, wholly at or below {@code
   * limit}.
   *
   * @throws DmaException if no free range fits, saying how much is free below the limit
   * @throws IllegalArgumentException if the size is not positive or the alignment not a power of
   *     two
   */
  public synchronized Iova allocate(long size, long alignment, long limit) {
    if (size <= 0) {
      throw new IllegalArgumentException("an IOVA range needs a positive size, not " + size);
    }
    if (alignment <= 0 || Long.bitCount(alignment) != 1) {
      throw new IllegalArgumentException("alignment " + alignment + " is not a power of two");
    }
    for (Map.Entry<Long, Long> range : free.entrySet()) {
      long first = range.getKey();
      long last = Math.min(range.getValue(), limit);
      long start = alignUp(first, alignment);
      if (start < 0 || start < first || start > last || last - start < size - 1) {
        continue;
      }
      long end = start + size - 1;
      long rangeLast = range.getValue();
      free.remove(first);
      if (start > first) {
        free.put(first, start - 1);
      }
      if (end < rangeLast) {
        free.put(end + 1, rangeLast);
      }
      return new Iova(start);
    }
    throw new DmaException(
        "no IOVA range of "
            + Sizes.human(size)
            + " aligned to "
            + Sizes.human(alignment)
            + " is free at or below 0x"
            + Long.toHexString(limit)
            + " (the device's DMA mask and the IOMMU apertures "
            + apertures(limit)
            + " allow "
            + Sizes.human(freeBelow(limit))
            + ", largest free range "
            + Sizes.human(largestBelow(limit))
            + "); free some DMA memory or use fewer, larger mappings");
  }

  /**
   * Gives back a range {@link #allocate} handed out.
   *
   * @throws IllegalStateException if any of it is already free (a double free), or it lies outside
   *     every aperture
   */
  public synchronized void free(Iova base, long size) {
    long first = base.value();
    long last = first + size - 1;
    if (size <= 0 || apertures.stream().noneMatch(a -> a.first() <= first && last <= a.last())) {
      throw new IllegalStateException(
          "IOVA range " + new IovaRange(first, Math.max(first, last)) + " was never handed out");
    }
    Map.Entry<Long, Long> below = free.floorEntry(last);
    if (below != null && below.getValue() >= first) {
      throw new IllegalStateException(
          "double free: IOVA range " + new IovaRange(first, last) + " is already free");
    }
    long mergedFirst = first;
    long mergedLast = last;
    Map.Entry<Long, Long> before = free.lowerEntry(first);
    if (before != null && before.getValue() == first - 1) {
      mergedFirst = before.getKey();
      free.remove(before.getKey());
    }
    Long after = free.get(last + 1);
    if (after != null) {
      mergedLast = after;
      free.remove(last + 1);
    }
    free.put(mergedFirst, mergedLast);
  }

  /** The free IOVA space at or below {@code limit}, in bytes. */
  public synchronized long freeBelow(long limit) {
    long total = 0;
    for (Map.Entry<Long, Long> range : free.entrySet()) {
      if (range.getKey() <= limit) {
        total += Math.min(range.getValue(), limit) - range.getKey() + 1;
      }
    }
    return total;
  }

  private long largestBelow(long limit) {
    long largest = 0;
    for (Map.Entry<Long, Long> range : free.entrySet()) {
      if (range.getKey() <= limit) {
        largest = Math.max(largest, Math.min(range.getValue(), limit) - range.getKey() + 1);
      }
    }
    return largest;
  }

  private static long alignUp(long value, long alignment) {
    return (value + alignment - 1) & -alignment;
  }

  @Override
  public synchronized String toString() {
    return "IovaAllocator[" + apertures + ", " + Sizes.human(freeBelow(Long.MAX_VALUE)) + " free]";
  }
}
