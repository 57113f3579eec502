package dev.upcie.sim.nvme;

import dev.upcie.nvme.NvmeStatus;
import dev.upcie.sim.model.DeviceDma;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A command's data pointer resolved into host memory ranges, as QEMU 7.2's {@code nvme_map_prp}
 * walks PRP1, PRP2 and chained PRP lists: the same checks, in the same order, with the same
 * statuses. One instance per controller, reused for every command: nothing is allocated per
 * command, except to grow once for a transfer larger than any before (MDTS 0 is unlimited).
 */
final class DataPointer {
  /** QEMU's {@code IOV_MAX}: a transfer of more ranges is an internal error. */
  static final int MAX_RANGES = 1024;

  private final MemorySegment list;
  private long[] addresses = new long[16];
  private long[] lengths = new long[16];
  private int count;

  DataPointer(Arena arena, int maxPageSize) {
    this.list = arena.allocate(maxPageSize, 8);
  }

  int count() {
    return count;
  }

  long address(int i) {
    return addresses[i];
  }

  long length(int i) {
    return lengths[i];
  }

  /**
   * Resolves {@code prp1} and {@code prp2} for {@code length} bytes with memory pages of {@code
   * pageSize}, reading PRP lists through {@code dma}.
   *
   * @return {@link NvmeStatus#SUCCESS}, or the status QEMU completes the command with
   */
  int mapPrp(DeviceDma dma, long prp1, long prp2, long length, int pageSize) {
    count = 0;
    long page = pageSize;
    long first = Math.min(length, page - Long.remainderUnsigned(prp1, page));
    int status = add(prp1, first);
    if (status != NvmeStatus.SUCCESS) {
      return status;
    }
    long left = length - first;
    if (left == 0) {
      return NvmeStatus.SUCCESS;
    }
    if (left <= page) {
      if ((prp2 & (page - 1)) != 0) {
        return NvmeStatus.INVALID_PRP_OFFSET | NvmeStatus.DNR;
      }
      return add(prp2, left);
    }
    int maxEntries = pageSize / 8;
    int entries = (int) ((page - (prp2 & (page - 1))) >>> 3);
    if (!dma.read(prp2, list, 0, Math.min(maxEntries, entries) * 8L)) {
      return NvmeStatus.DATA_TRANSFER_ERROR;
    }
    int i = 0;
    while (left != 0) {
      long entry = list.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
      if (i == entries - 1 && left > page) {
        if ((entry & (page - 1)) != 0) {
          return NvmeStatus.INVALID_PRP_OFFSET | NvmeStatus.DNR;
        }
        i = 0;
        entries = (int) Math.min((left + page - 1) / page, maxEntries);
        if (!dma.read(entry, list, 0, entries * 8L)) {
          return NvmeStatus.DATA_TRANSFER_ERROR;
        }
        entry = list.getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, 0);
      }
      if ((entry & (page - 1)) != 0) {
        return NvmeStatus.INVALID_PRP_OFFSET | NvmeStatus.DNR;
      }
      long piece = Math.min(left, page);
      status = add(entry, piece);
      if (status != NvmeStatus.SUCCESS) {
        return status;
      }
      left -= piece;
      i++;
    }
    return NvmeStatus.SUCCESS;
  }

  /** Copies {@code length} bytes of {@code source} to the ranges; faults are ignored, as QEMU. */
  void toHost(DeviceDma dma, MemorySegment source, long length) {
    long at = 0;
    for (int i = 0; i < count && at < length; i++) {
      long piece = Math.min(lengths[i], length - at);
      dma.write(addresses[i], source, at, piece);
      at += piece;
    }
  }

  /** Copies the ranges into {@code destination}; where DMA faults it gets zeros, as in QEMU. */
  void fromHost(DeviceDma dma, MemorySegment destination, long length) {
    long at = 0;
    for (int i = 0; i < count && at < length; i++) {
      long piece = Math.min(lengths[i], length - at);
      dma.read(addresses[i], destination, at, piece);
      at += piece;
    }
  }

  private int add(long address, long length) {
    if (length == 0) {
      return NvmeStatus.SUCCESS;
    }
    if (count + 1 > MAX_RANGES) {
      return NvmeStatus.INTERNAL_ERROR | NvmeStatus.DNR;
    }
    if (count == addresses.length) {
      addresses = java.util.Arrays.copyOf(addresses, count * 2);
      lengths = java.util.Arrays.copyOf(lengths, count * 2);
    }
    addresses[count] = address;
    lengths[count] = length;
    count++;
    return NvmeStatus.SUCCESS;
  }
}
