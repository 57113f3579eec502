package dev.upcie.sim.nvme;

import static dev.upcie.nvme.NvmeStatus.DNR;

import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.sim.model.DeviceDma;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The NVM command set as QEMU 7.2's {@code nvme_io_cmd} executes it: namespace and opcode checks in
 * QEMU's order, then Read, Write, Write Zeroes, Compare, Dataset Management, Verify and Flush with
 * QEMU's statuses. Data moves between the namespace's store and host memory directly, a page at a
 * time, so nothing is allocated per command.
 */
final class NvmCommands {
  private static final int NSID_BROADCAST = NvmeCommandDescriptor.NSID_BROADCAST;

  private final Controller c;
  // For Compare and Dataset Management: host data, up to the largest transfer MDTS allows.
  private MemorySegment hostData;
  private MemorySegment stored;

  NvmCommands(Controller controller) {
    this.c = controller;
  }

  /**
   * Commands Supported and Effects of the NVM command set (QEMU's {@code nvme_cse_iocs_nvm}); the
   * zoned set adds its three commands.
   */
  static int effects(int opcode, boolean zoned) {
    int supported = 1;
    int changesContent = 1 << 1;
    return switch (opcode) {
      case NvmeOpcodes.IO_FLUSH,
          NvmeOpcodes.IO_WRITE_ZEROES,
          NvmeOpcodes.IO_WRITE,
          NvmeOpcodes.IO_DATASET_MANAGEMENT,
          NvmeOpcodes.IO_COPY ->
          supported | changesContent;
      case NvmeOpcodes.IO_READ, NvmeOpcodes.IO_VERIFY, NvmeOpcodes.IO_COMPARE -> supported;
      case 0x7d, 0x79 -> zoned ? supported | changesContent : 0;
      case 0x7a -> zoned ? supported : 0;
      default -> 0;
    };
  }

  int execute() {
    MemorySegment cmd = c.command;
    int opcode = Byte.toUnsignedInt(cmd.get(ValueLayout.JAVA_BYTE, 0));
    int nsid = cmd.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.NSID);
    if (!AdminCommands.nsidValid(nsid)) {
      return NvmeStatus.INVALID_NAMESPACE | DNR;
    }
    if (opcode == NvmeOpcodes.IO_FLUSH) {
      return flush(nsid);
    }
    Namespace ns = nsid == NSID_BROADCAST ? null : c.namespaces[nsid];
    if (ns == null) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    if (c.commandSet == 7 || (effects(opcode, false) & 1) == 0) {
      return NvmeStatus.INVALID_OPCODE | DNR;
    }
    int flags = Byte.toUnsignedInt(cmd.get(ValueLayout.JAVA_BYTE, 1));
    if ((flags & 0x3) != 0) {
      return NvmeStatus.INVALID_FIELD; // fused
    }
    long slba = cmd.get(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.CDW10);
    int blocks = (cmd.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW12) & 0xffff) + 1;
    return switch (opcode) {
      case NvmeOpcodes.IO_READ -> transfer(ns, flags, slba, blocks, true);
      case NvmeOpcodes.IO_WRITE -> transfer(ns, flags, slba, blocks, false);
      case NvmeOpcodes.IO_WRITE_ZEROES -> writeZeroes(ns, slba, blocks);
      case NvmeOpcodes.IO_COMPARE -> compare(ns, flags, slba, blocks);
      case NvmeOpcodes.IO_DATASET_MANAGEMENT -> datasetManagement(ns, flags);
      case NvmeOpcodes.IO_VERIFY -> verify(ns, slba, blocks);
      case NvmeOpcodes.IO_COPY -> copy(ns, flags, slba);
      default -> NvmeStatus.INVALID_OPCODE | DNR;
    };
  }

  private int flush(int nsid) {
    if (nsid != NSID_BROADCAST) {
      Namespace ns = c.namespaces[nsid];
      if (ns == null) {
        return NvmeStatus.INVALID_FIELD | DNR;
      }
      ns.store.flush();
      return NvmeStatus.SUCCESS;
    }
    for (Namespace ns : c.namespaces) {
      if (ns != null) {
        ns.store.flush();
      }
    }
    return NvmeStatus.SUCCESS;
  }

  /**
   * Read ({@code toHost}) or Write: QEMU's checks (MDTS, bounds, the data pointer), each adding
   * DNR, then the data moved range by range between host memory and the namespace.
   */
  private int transfer(Namespace ns, int flags, long slba, int blocks, boolean toHost) {
    long length = ns.bytes(blocks);
    int status = checks(ns, slba, blocks, length);
    if (status == NvmeStatus.SUCCESS) {
      status = map(flags, length);
    }
    if (status != NvmeStatus.SUCCESS) {
      return status | DNR;
    }
    DeviceDma dma = c.dma();
    long offset = ns.bytes(slba);
    DataPointer data = c.data;
    for (int i = 0; i < data.count(); i++) {
      if (toHost) {
        ns.store.toHost(dma, data.address(i), offset, data.length(i));
      } else {
        ns.store.fromHost(dma, data.address(i), offset, data.length(i));
      }
      offset += data.length(i);
    }
    if (toHost) {
      ns.bytesRead += length;
      ns.readCommands++;
    } else {
      ns.bytesWritten += length;
      ns.writeCommands++;
    }
    return NvmeStatus.SUCCESS;
  }

  private int writeZeroes(Namespace ns, long slba, int blocks) {
    int status = bounds(ns, slba, blocks);
    if (status != NvmeStatus.SUCCESS) {
      return status;
    }
    ns.store.zero(ns.bytes(slba), ns.bytes(blocks));
    return NvmeStatus.SUCCESS;
  }

  /**
   * Compare: QEMU returns its statuses without adding DNR here. On a namespace formatted with
   * extended LBAs (MSET) QEMU copies the host's data block by block and checks each copy, so a DMA
   * fault is a Data Transfer Error; otherwise a fault reads zeros. Only a compare that matches
   * counts as a read in the SMART log.
   */
  private int compare(Namespace ns, int flags, long slba, int blocks) {
    long length = ns.bytes(blocks);
    int status = checks(ns, slba, blocks, length);
    if (status == NvmeStatus.SUCCESS) {
      status = map(flags, length);
    }
    if (status != NvmeStatus.SUCCESS) {
      return status;
    }
    MemorySegment host = hostData(length);
    if (!c.data.fromHost(c.dma(), host, length) && ns.extended) {
      return NvmeStatus.DATA_TRANSFER_ERROR;
    }
    ns.store.read(ns.bytes(slba), stored, length);
    if (MemorySegment.mismatch(host, 0, length, stored, 0, length) != -1) {
      return NvmeStatus.COMPARE_FAILURE;
    }
    ns.bytesRead += length;
    ns.readCommands++;
    return NvmeStatus.SUCCESS;
  }

  /**
   * Dataset Management: with the deallocate attribute, each range within the namespace and the
   * range size limit reads as zeros afterwards; other ranges are skipped without an error.
   */
  private int datasetManagement(Namespace ns, int flags) {
    MemorySegment cmd = c.command;
    int ranges = (cmd.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10) & 0xff) + 1;
    int attributes = cmd.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW11);
    if ((attributes & 0x4) == 0) {
      return NvmeStatus.SUCCESS;
    }
    long length = ranges * 16L;
    int status = map(flags, length);
    if (status != NvmeStatus.SUCCESS) {
      return status;
    }
    MemorySegment list = hostData(length);
    c.data.fromHost(c.dma(), list, length);
    long limit = c.dmrsl();
    for (int i = 0; i < ranges; i++) {
      long blocks = Integer.toUnsignedLong(list.get(ValueLayout.JAVA_INT, i * 16L + 4));
      long slba = list.get(ValueLayout.JAVA_LONG, i * 16L + 8);
      if (blocks > limit || bounds(ns, slba, blocks) != NvmeStatus.SUCCESS) {
        continue;
      }
      ns.store.zero(ns.bytes(slba), ns.bytes(blocks));
    }
    return NvmeStatus.SUCCESS;
  }

  /**
   * Copy (source range format 0), as QEMU 7.2's {@code nvme_copy}: each range in turn, read and
   * written to the destination. A range over MSSRL (128 blocks) or outside the namespace stops the
   * copy; QEMU then completes it with Internal Error (its block-layer error path overrides the
   * range's own status) and dword 0 the number of ranges copied.
   */
  private int copy(Namespace ns, int flags, long destination) {
    int cdw12 = c.command.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW12);
    int ranges = (cdw12 & 0xff) + 1;
    int format = (cdw12 >>> 8) & 0xf;
    if (format > 1) {
      return NvmeStatus.INVALID_FIELD | DNR; // not in OCFS
    }
    if (ranges > 128) {
      return NvmeStatus.COMMAND_SIZE_LIMIT_EXCEEDED | DNR; // over MSRC + 1
    }
    if (format != 0) {
      return NvmeStatus.INVALID_FORMAT | DNR; // format 1 needs 64-bit protection information
    }
    long length = ranges * 32L;
    int status = map(flags, length);
    if (status != NvmeStatus.SUCCESS) {
      return status;
    }
    MemorySegment list = hostData(Math.max(length, 128L * 4096));
    c.data.fromHost(c.dma(), list, length);
    MemorySegment bounce = stored;
    for (int i = 0; i < ranges; i++) {
      long slba = list.get(ValueLayout.JAVA_LONG, i * 32L + 8);
      int blocks = Short.toUnsignedInt(list.get(ValueLayout.JAVA_SHORT, i * 32L + 16)) + 1;
      if (blocks > 128
          || bounds(ns, slba, blocks) != NvmeStatus.SUCCESS
          || bounds(ns, destination, blocks) != NvmeStatus.SUCCESS) {
        c.result = i;
        return NvmeStatus.INTERNAL_ERROR;
      }
      ns.store.read(ns.bytes(slba), bounce, ns.bytes(blocks));
      ns.store.write(ns.bytes(destination), bounce, 0, ns.bytes(blocks));
      destination += blocks;
    }
    ns.readCommands++;
    ns.writeCommands++;
    return NvmeStatus.SUCCESS;
  }

  /** Verify: QEMU reads the blocks (counted as a read) and checks only protection information. */
  private int verify(Namespace ns, long slba, int blocks) {
    long length = ns.bytes(blocks);
    if (length > ((long) c.pageSize << 7)) { // QEMU's vsl, 7
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    int status = bounds(ns, slba, blocks);
    if (status != NvmeStatus.SUCCESS) {
      return status;
    }
    ns.bytesRead += length;
    ns.readCommands++;
    return NvmeStatus.SUCCESS;
  }

  private int checks(Namespace ns, long slba, long blocks, long length) {
    int mdts = c.options.mdts();
    if (mdts != 0 && length > ((long) c.pageSize << mdts)) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    return bounds(ns, slba, blocks);
  }

  /** QEMU's {@code nvme_check_bounds}. */
  private static int bounds(Namespace ns, long slba, long blocks) {
    if (Long.compareUnsigned(-1L - slba, blocks) < 0
        || Long.compareUnsigned(slba + blocks, ns.blocks) > 0) {
      return NvmeStatus.LBA_OUT_OF_RANGE | DNR;
    }
    return NvmeStatus.SUCCESS;
  }

  /** QEMU's {@code nvme_map_dptr}: PRPs (PSDT 0) or an SGL (PSDT 1 and 2). */
  private int map(int flags, long length) {
    int psdt = flags >>> 6;
    MemorySegment cmd = c.command;
    if (psdt == 1 || psdt == 2) {
      return c.data.mapSgl(c.dma(), cmd, NvmeCommandDescriptor.PRP1, length);
    }
    if (psdt != 0) {
      return NvmeStatus.INVALID_FIELD;
    }
    return c.data.mapPrp(
        c.dma(),
        cmd.get(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1),
        cmd.get(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP2),
        length,
        c.pageSize);
  }

  private MemorySegment hostData(long length) {
    if (hostData == null || hostData.byteSize() < length) {
      Arena arena = Arena.ofAuto();
      hostData = arena.allocate(length, 8);
      stored = arena.allocate(length, 8);
    }
    return hostData;
  }
}
