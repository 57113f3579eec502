package dev.upcie.sim.nvme;

import static dev.upcie.nvme.NvmeStatus.DNR;

import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Get Log Page as QEMU 7.2's {@code nvme_get_log} answers it. */
final class LogPages {
  static final int ERROR_INFORMATION = 0x01;
  static final int SMART = 0x02;
  static final int FIRMWARE_SLOT = 0x03;
  static final int CHANGED_NAMESPACES = 0x04;
  static final int COMMAND_EFFECTS = 0x05;

  private static final int ERROR_ENTRY = 64;
  private static final int PAGE = 512;
  private static final int LIST = 4096;

  private final Controller c;
  private final AdminCommands admin;

  LogPages(Controller controller, AdminCommands admin) {
    this.c = controller;
    this.admin = admin;
  }

  int get() {
    int dw10 = admin.cdw(40);
    int lid = dw10 & 0xff;
    boolean retainEvent = ((dw10 >>> 15) & 1) != 0;
    int csi = admin.cdw(56) >>> 24;
    long dwords = ((long) (admin.cdw(44) & 0xffff) << 16 | (dw10 >>> 16)) + 1;
    long length = dwords << 2;
    long offset = Integer.toUnsignedLong(admin.cdw(48)) | (long) admin.cdw(52) << 32;
    if ((offset & 0x3) != 0) {
      return NvmeStatus.INVALID_FIELD | DNR;
    }
    int status = admin.checkMdts(length);
    if (status != NvmeStatus.SUCCESS) {
      return status;
    }
    MemorySegment page = c.scratch;
    switch (lid) {
      case ERROR_INFORMATION -> {
        if (Long.compareUnsigned(offset, ERROR_ENTRY) >= 0) {
          return NvmeStatus.INVALID_FIELD | DNR;
        }
        if (!retainEvent) {
          c.clearEvents(Controller.Events.ERROR);
        }
        page.fill((byte) 0);
        // QEMU copies from the start of its (empty) entry whatever the offset.
        return admin.toHost(page, Math.min(ERROR_ENTRY - offset, length));
      }
      case SMART -> {
        if (Long.compareUnsigned(offset, PAGE) >= 0) {
          return NvmeStatus.INVALID_FIELD | DNR;
        }
        status = smart(page);
        if (status != NvmeStatus.SUCCESS) {
          return status;
        }
        if (!retainEvent) {
          c.clearEvents(Controller.Events.SMART);
        }
        return from(page, offset, Math.min(PAGE - offset, length));
      }
      case FIRMWARE_SLOT -> {
        if (Long.compareUnsigned(offset, PAGE) >= 0) {
          return NvmeStatus.INVALID_FIELD | DNR;
        }
        page.fill((byte) 0);
        page.set(ValueLayout.JAVA_BYTE, 0, (byte) 1); // AFI: slot 1 active
        byte[] revision = {'1', '.', '0', ' ', ' ', ' ', ' ', ' '};
        MemorySegment.copy(revision, 0, page, ValueLayout.JAVA_BYTE, 8, revision.length);
        return from(page, offset, Math.min(PAGE - offset, length));
      }
      case CHANGED_NAMESPACES -> {
        if (Long.compareUnsigned(offset, LIST) >= 0) {
          return NvmeStatus.INVALID_FIELD | DNR;
        }
        page.fill((byte) 0);
        c.takeChangedNamespaces(page);
        if (!retainEvent) {
          c.clearEvents(Controller.Events.NOTICE);
        }
        return from(page, offset, Math.min(LIST - offset, length));
      }
      case COMMAND_EFFECTS -> {
        if (Long.compareUnsigned(offset, LIST) >= 0) {
          return NvmeStatus.INVALID_FIELD | DNR;
        }
        effects(page, csi);
        return from(page, offset, Math.min(LIST - offset, length));
      }
      default -> {
        return NvmeStatus.INVALID_FIELD | DNR;
      }
    }
  }

  private int from(MemorySegment page, long offset, long length) {
    if (offset != 0) {
      MemorySegment.copy(page, offset, page, 0, length);
    }
    return admin.toHost(page, length);
  }

  /** The SMART / Health Information log: QEMU's temperature, and its block accounting. */
  private int smart(MemorySegment page) {
    int nsid = admin.cdw(NvmeCommandDescriptor.NSID);
    long bytesRead = 0;
    long bytesWritten = 0;
    long reads = 0;
    long writes = 0;
    if (nsid != NvmeCommandDescriptor.NSID_BROADCAST) {
      Namespace ns = admin.namespace(nsid);
      if (ns == null) {
        return NvmeStatus.INVALID_NAMESPACE | DNR;
      }
      bytesRead = ns.bytesRead;
      bytesWritten = ns.bytesWritten;
      reads = ns.readCommands;
      writes = ns.writeCommands;
    } else {
      for (Namespace ns : c.namespaces) {
        if (ns != null) {
          bytesRead += ns.bytesRead;
          bytesWritten += ns.bytesWritten;
          reads += ns.readCommands;
          writes += ns.writeCommands;
        }
      }
    }
    page.fill((byte) 0);
    Features f = c.features;
    boolean temperatureWarning =
        IdentifyData.TEMPERATURE >= f.temperatureHigh
            || IdentifyData.TEMPERATURE <= f.temperatureLow;
    page.set(ValueLayout.JAVA_BYTE, 0, (byte) (temperatureWarning ? 0x2 : 0));
    page.set(ValueLayout.JAVA_SHORT_UNALIGNED, 1, (short) IdentifyData.TEMPERATURE);
    page.set(ValueLayout.JAVA_LONG, 32, ceilThousand(bytesRead >>> 9));
    page.set(ValueLayout.JAVA_LONG, 48, ceilThousand(bytesWritten >>> 9));
    page.set(ValueLayout.JAVA_LONG, 64, reads);
    page.set(ValueLayout.JAVA_LONG, 80, writes);
    page.set(ValueLayout.JAVA_LONG, 128, (c.clock() - c.startNanos) / 3_600_000_000_000L);
    return NvmeStatus.SUCCESS;
  }

  private static long ceilThousand(long units) {
    return (units + 999) / 1000;
  }

  /** Commands Supported and Effects: QEMU's tables, for the command set CC.CSS selects. */
  private void effects(MemorySegment page, int csi) {
    page.fill((byte) 0);
    for (int opcode = 0; opcode < 256; opcode++) {
      if (AdminCommands.supported(opcode)) {
        int effects = 1; // CSUPP
        if (opcode == NvmeOpcodes.ADMIN_NS_ATTACHMENT) {
          effects |= 1 << 3; // NIC
        } else if (opcode == NvmeOpcodes.ADMIN_FORMAT_NVM) {
          effects |= 1 << 1; // LBCC
        }
        page.setAtIndex(ValueLayout.JAVA_INT, opcode, effects);
      }
    }
    int css = c.commandSet;
    boolean nvm = css == 0 || (css == 6 && (csi == 0 || csi == 2));
    if (nvm) {
      for (int opcode = 0; opcode < 256; opcode++) {
        int effects = NvmCommands.effects(opcode, css == 6 && csi == 2);
        page.setAtIndex(ValueLayout.JAVA_INT, 256 + opcode, effects);
      }
    }
  }
}
