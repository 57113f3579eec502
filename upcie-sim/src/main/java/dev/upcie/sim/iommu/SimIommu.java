package dev.upcie.sim.iommu;

import dev.upcie.dma.IovaAllocator;
import dev.upcie.dma.IovaRange;
import dev.upcie.memory.Iova;
import dev.upcie.sim.model.DmaDirection;
import dev.upcie.sim.model.DmaFault;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;

/**
 * A simulated machine's IOMMU: I/O virtual addresses mapped to host memory, with what the device
 * may do there, and a log of the accesses it refused.
 *
 * <p>One IOVA space serves every simulated device, as one VFIO container serves every group a
 * process opens. Its apertures are those QEMU's intel-iommu gives a guest: 39 bits, less the MSI
 * window at {@code 0xfee00000}. Thread-safe.
 */
public final class SimIommu {
  /** The apertures of QEMU 7.2's intel-iommu as a q35 guest's VFIO reports them. */
  public static final List<IovaRange> QEMU_APERTURES =
      List.of(new IovaRange(0, 0xfedf_ffffL), new IovaRange(0xfef0_0000L, (1L << 39) - 1));

  /** How many faults the log keeps; older ones are counted but dropped. */
  public static final int FAULT_LOG = 256;

  private final IovaAllocator iovas = new IovaAllocator(QEMU_APERTURES);
  // Sorted by IOVA and replaced whole on map and unmap, so a copy finds its mapping by binary
  // search without boxing a key or allocating a map entry.
  private Mapping[] mappings = new Mapping[0];
  private final ArrayDeque<DmaFault> faults = new ArrayDeque<>();
  private long faultCount;

  /** An IOMMU with nothing mapped. */
  public SimIommu() {}

  /** A mapping of host memory at an IOVA. */
  public record Mapping(Iova iova, MemorySegment segment, DmaAccess access) {
    /** Checks the values. */
    public Mapping {
      Objects.requireNonNull(iova, "iova");
      Objects.requireNonNull(segment, "segment");
      Objects.requireNonNull(access, "access");
    }

    long first() {
      return iova.value();
    }

    long last() {
      return iova.value() + segment.byteSize() - 1;
    }
  }

  /** The IOVA ranges it translates, from 64 KiB up. */
  public List<IovaRange> apertures() {
    return iovas.apertures();
  }

  /** The apertures cut at {@code limit}, the highest address a device reaches. */
  public List<IovaRange> apertures(long limit) {
    return iovas.apertures(limit);
  }

  /**
   * Maps {@code segment} at a free IOVA aligned to {@code alignment} and wholly at or below {@code
   * limit} (a device's highest address, such as {@code IovaRange.belowMask(32).last()}; {@link
   * Long#MAX_VALUE} for no limit).
   *
   * @throws dev.upcie.dma.DmaException if no IOVA range fits
   */
  public synchronized Mapping map(
      MemorySegment segment, long alignment, long limit, DmaAccess access) {
    Iova iova = iovas.allocate(segment.byteSize(), alignment, limit);
    Mapping mapping = new Mapping(iova, segment, access);
    Mapping[] more = Arrays.copyOf(mappings, mappings.length + 1);
    more[more.length - 1] = mapping;
    Arrays.sort(more, Comparator.comparingLong(Mapping::first));
    mappings = more;
    return mapping;
  }

  /**
   * Takes a mapping away: the device no longer reaches its memory.
   *
   * @throws IllegalStateException if it is not mapped (unmapped twice)
   */
  public synchronized void unmap(Mapping mapping) {
    if (!mapping.equals(find(mapping.first()))) {
      throw new IllegalStateException(mapping.iova() + " is not mapped");
    }
    mappings = Arrays.stream(mappings).filter(m -> m != mapping).toArray(Mapping[]::new);
    iovas.free(mapping.iova(), mapping.segment().byteSize());
  }

  /** The mappings now, by IOVA. */
  public synchronized List<Mapping> mappings() {
    return List.of(mappings);
  }

  /**
   * Copies between {@code buffer} (the device's side) and host memory at {@code iova}: reads host
   * memory into it, or writes it to host memory. All or nothing: every byte must be mapped, with
   * the access the direction needs, before any is copied.
   *
   * @return null if it was copied, else why not
   */
  public DmaFault.Reason copy(long iova, MemorySegment buffer, DmaDirection direction) {
    return copy(iova, buffer, 0, buffer.byteSize(), direction);
  }

  /**
   * {@link #copy(long, MemorySegment, DmaDirection)} for {@code size} bytes of {@code buffer} from
   * {@code offset}, without slicing it: allocates nothing.
   *
   * @throws IndexOutOfBoundsException if the bytes are not all in {@code buffer}
   */
  public DmaFault.Reason copy(
      long iova, MemorySegment buffer, long offset, long size, DmaDirection direction) {
    Objects.checkFromIndexSize(offset, size, buffer.byteSize());
    if (size == 0) {
      return null;
    }
    if (iova < 0 || iova + size - 1 < iova) {
      return DmaFault.Reason.NOT_MAPPED;
    }
    synchronized (this) {
      // Check the whole range first: it may span mappings that happen to be adjacent.
      long at = iova;
      long end = iova + size - 1;
      while (at <= end) {
        Mapping mapping = find(at);
        if (mapping == null) {
          return DmaFault.Reason.NOT_MAPPED;
        }
        if (!mapping.access().allows(direction)) {
          return DmaFault.Reason.PERMISSION;
        }
        at = mapping.last() + 1;
        if (at == 0) {
          break;
        }
      }
      try {
        at = iova;
        long done = 0;
        while (done < size) {
          Mapping mapping = find(at);
          long from = at - mapping.first();
          long length = Math.min(size - done, mapping.segment().byteSize() - from);
          if (direction == DmaDirection.READ) {
            MemorySegment.copy(mapping.segment(), from, buffer, offset + done, length);
          } else {
            MemorySegment.copy(buffer, offset + done, mapping.segment(), from, length);
          }
          done += length;
          at += length;
        }
      } catch (IllegalStateException e) {
        // The memory was freed while still mapped (the driver closed the region first).
        return DmaFault.Reason.NOT_MAPPED;
      }
    }
    return null;
  }

  /** The mapping that holds {@code iova}, or null. */
  private Mapping find(long iova) {
    Mapping[] all = mappings;
    int low = 0;
    int high = all.length - 1;
    while (low <= high) {
      int middle = (low + high) >>> 1;
      Mapping m = all[middle];
      if (Long.compareUnsigned(m.last(), iova) < 0) {
        low = middle + 1;
      } else if (Long.compareUnsigned(m.first(), iova) > 0) {
        high = middle - 1;
      } else {
        return m;
      }
    }
    return null;
  }

  /** Adds a fault to the log. */
  public synchronized void record(DmaFault fault) {
    faultCount++;
    if (faults.size() == FAULT_LOG) {
      faults.removeFirst();
    }
    faults.addLast(fault);
  }

  /** The faults logged, oldest first (the last {@value #FAULT_LOG}). */
  public synchronized List<DmaFault> faults() {
    return List.copyOf(faults);
  }

  /** How many faults there were in all. */
  public synchronized long faultCount() {
    return faultCount;
  }

  /** Forgets the faults logged so far. */
  public synchronized void clearFaults() {
    faults.clear();
    faultCount = 0;
  }

  @Override
  public synchronized String toString() {
    return "SimIommu[" + mappings.length + " mappings, " + faultCount + " faults]";
  }
}
