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

  private static final int DATA_BLOCK = 0x0;
  private static final int SEGMENT = 0x2;
  private static final int LAST_SEGMENT = 0x3;
  // QEMU reads a segment 256 descriptors (4 KiB) at a time.
  private static final int SEGMENT_CHUNK = 256;

  private final MemorySegment list;
  private final MemorySegment descriptors;
  private long[] addresses = new long[16];
  private long[] lengths = new long[16];
  private int count;
  // Bytes of the transfer an SGL has yet to describe.
  private long remaining;

  DataPointer(Arena arena, int maxPageSize) {
    this.list = arena.allocate(maxPageSize, 8);
    this.descriptors = arena.allocate(SEGMENT_CHUNK * 16L, 8);
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

  /**
   * Resolves the SGL whose first descriptor is the 16 bytes of {@code command} at {@code at}, for
   * {@code length} bytes, as QEMU 7.2's {@code nvme_map_sgl}: data blocks, segments and last
   * segments, read through {@code dma} a chunk of 256 descriptors at a time.
   *
   * @return {@link NvmeStatus#SUCCESS}, or the status QEMU completes the command with
   */
  int mapSgl(DeviceDma dma, MemorySegment command, long at, long length) {
    count = 0;
    remaining = length;
    long address = command.get(ValueLayout.JAVA_LONG_UNALIGNED, at);
    int type = sglType(command, at);
    if (type == DATA_BLOCK) {
      int status = mapData(command, at, 1);
      return status != NvmeStatus.SUCCESS ? status : residual();
    }
    long segmentAt = at;
    MemorySegment segmentHolder = command;
    while (true) {
      int segmentType = sglType(segmentHolder, segmentAt);
      if (segmentType != SEGMENT && segmentType != LAST_SEGMENT) {
        return NvmeStatus.INVALID_SGL_SEGMENT_DESCRIPTOR | NvmeStatus.DNR;
      }
      long segmentLength =
          Integer.toUnsignedLong(segmentHolder.get(ValueLayout.JAVA_INT_UNALIGNED, segmentAt + 8));
      if (segmentLength == 0 || (segmentLength & 0xf) != 0) {
        return NvmeStatus.INVALID_SGL_SEGMENT_DESCRIPTOR | NvmeStatus.DNR;
      }
      if (Long.compareUnsigned(-1L - address, segmentLength) < 0) {
        return NvmeStatus.INVALID_DATA_SGL_LENGTH | NvmeStatus.DNR;
      }
      long left = segmentLength / 16;
      while (left > SEGMENT_CHUNK) {
        if (!dma.read(address, descriptors, 0, SEGMENT_CHUNK * 16L)) {
          return NvmeStatus.DATA_TRANSFER_ERROR;
        }
        int status = mapData(descriptors, 0, SEGMENT_CHUNK);
        if (status != NvmeStatus.SUCCESS) {
          return status;
        }
        left -= SEGMENT_CHUNK;
        address += SEGMENT_CHUNK * 16L;
      }
      if (!dma.read(address, descriptors, 0, left * 16)) {
        return NvmeStatus.DATA_TRANSFER_ERROR;
      }
      long last = (left - 1) * 16;
      if (sglType(descriptors, last) == DATA_BLOCK) {
        int status = mapData(descriptors, 0, (int) left);
        return status != NvmeStatus.SUCCESS ? status : residual();
      }
      if (segmentType == LAST_SEGMENT) {
        return NvmeStatus.INVALID_SGL_SEGMENT_DESCRIPTOR | NvmeStatus.DNR;
      }
      // The last descriptor leads to the next segment: keep it before mapping the others, since
      // mapping does not touch the descriptor buffer.
      long next = descriptors.get(ValueLayout.JAVA_LONG_UNALIGNED, last);
      int status = mapData(descriptors, 0, (int) left - 1);
      if (status != NvmeStatus.SUCCESS) {
        return status;
      }
      segmentHolder = descriptors;
      segmentAt = last;
      address = next;
    }
  }

  private int residual() {
    return remaining != 0
        ? NvmeStatus.INVALID_DATA_SGL_LENGTH | NvmeStatus.DNR
        : NvmeStatus.SUCCESS;
  }

  private static int sglType(MemorySegment holder, long at) {
    return (Byte.toUnsignedInt(holder.get(ValueLayout.JAVA_BYTE, at + 15)) >>> 4) & 0xf;
  }

  /**
   * QEMU's {@code nvme_map_sgl_data} over {@code n} descriptors at {@code at} in {@code holder}.
   */
  private int mapData(MemorySegment holder, long at, int n) {
    for (int i = 0; i < n; i++) {
      long d = at + i * 16L;
      int type = sglType(holder, d);
      if (type == SEGMENT || type == LAST_SEGMENT) {
        return NvmeStatus.INVALID_SGL_DESCRIPTOR_COUNT | NvmeStatus.DNR;
      } else if (type != DATA_BLOCK) {
        return NvmeStatus.INVALID_SGL_DESCRIPTOR_TYPE | NvmeStatus.DNR;
      }
      long length = Integer.toUnsignedLong(holder.get(ValueLayout.JAVA_INT_UNALIGNED, d + 8));
      if (length == 0) {
        continue;
      }
      if (remaining == 0) {
        return NvmeStatus.INVALID_DATA_SGL_LENGTH | NvmeStatus.DNR; // no excess length support
      }
      long address = holder.get(ValueLayout.JAVA_LONG_UNALIGNED, d);
      if (Long.compareUnsigned(-1L - address, length) < 0) {
        return NvmeStatus.INVALID_DATA_SGL_LENGTH | NvmeStatus.DNR;
      }
      long piece = Math.min(remaining, length);
      int status = add(address, piece);
      if (status != NvmeStatus.SUCCESS) {
        return status;
      }
      remaining -= piece;
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

  /**
   * Copies the ranges into {@code destination}; where DMA faults it gets zeros, as in QEMU.
   *
   * @return false if any of it faulted
   */
  boolean fromHost(DeviceDma dma, MemorySegment destination, long length) {
    long at = 0;
    boolean all = true;
    for (int i = 0; i < count && at < length; i++) {
      long piece = Math.min(lengths[i], length - at);
      all &= dma.read(addresses[i], destination, at, piece);
      at += piece;
    }
    return all;
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
