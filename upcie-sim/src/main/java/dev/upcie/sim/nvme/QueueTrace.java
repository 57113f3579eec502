package dev.upcie.sim.nvme;

import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.sim.trace.EventDecoder;
import dev.upcie.sim.trace.TraceEvent;

/**
 * Decodes the commands and completions a queue records in the machine's trace. Recording packs the
 * fields into the event's numbers (nothing is allocated per command); this turns them into the line
 * a person reads: {@code SQ1 Read cid 7 nsid 1 slba 0x10 blocks 8}, {@code CQ1 cid 7 from SQ1 head
 * 3: Successful Completion (0x0000), dw0 0x0}.
 */
final class QueueTrace implements EventDecoder {
  private final String name;
  private final boolean admin;

  private QueueTrace(String name, boolean admin) {
    this.name = name;
    this.admin = admin;
  }

  static QueueTrace submissions(int qid) {
    return new QueueTrace("SQ" + qid, qid == 0);
  }

  static QueueTrace completions(int qid) {
    return new QueueTrace("CQ" + qid, qid == 0);
  }

  /** What a command event carries: dwords 10 and 11, then opcode, command id and namespace. */
  static long commandWords(int cdw10, int cdw11) {
    return Integer.toUnsignedLong(cdw10) | (long) cdw11 << 32;
  }

  static long commandIdentity(int opcode, int cid, int nsid) {
    return opcode | (long) cid << 8 | Integer.toUnsignedLong(nsid) << 24;
  }

  /** What a completion event carries: command id, status, the SQ's head and id. */
  static long completionIdentity(int cid, int status, int sqHead, int sqId) {
    return cid | (long) status << 16 | (long) sqHead << 32 | (long) sqId << 48;
  }

  @Override
  public String describe(TraceEvent.Kind kind, long address, long value, int size) {
    return kind == TraceEvent.Kind.COMPLETION
        ? completion(address, value, size)
        : command(address, value, size);
  }

  private String completion(long dw0, long value, int phase) {
    int cid = (int) (value & 0xffff);
    int status = (int) ((value >>> 16) & 0x7fff);
    return String.format(
        "%s cid %d from SQ%d head %d: %s, dw0 0x%x, phase %d",
        name,
        cid,
        (value >>> 48) & 0xffff,
        (value >>> 32) & 0xffff,
        NvmeStatus.describe(status),
        dw0 & 0xffff_ffffL,
        phase);
  }

  private String command(long words, long value, int cdw12) {
    int opcode = (int) (value & 0xff);
    int cid = (int) ((value >>> 8) & 0xffff);
    long nsid = (value >>> 24) & 0xffff_ffffL;
    int cdw10 = (int) words;
    int cdw11 = (int) (words >>> 32);
    String head =
        String.format(
            "%s %s cid %d",
            name, admin ? NvmeOpcodes.adminName(opcode) : NvmeOpcodes.ioName(opcode), cid);
    if (admin) {
      return head + " " + adminFields(opcode, nsid, cdw10, cdw11);
    }
    return head
        + switch (opcode) {
          case NvmeOpcodes.IO_READ,
              NvmeOpcodes.IO_WRITE,
              NvmeOpcodes.IO_COMPARE,
              NvmeOpcodes.IO_WRITE_ZEROES,
              NvmeOpcodes.IO_VERIFY ->
              String.format(" nsid %d slba 0x%x blocks %d", nsid, words, (cdw12 & 0xffff) + 1);
          case NvmeOpcodes.IO_DATASET_MANAGEMENT ->
              String.format(" nsid %d ranges %d attributes 0x%x", nsid, (cdw10 & 0xff) + 1, cdw11);
          default -> String.format(" nsid %d cdw10 0x%x cdw11 0x%x", nsid, cdw10, cdw11);
        };
  }

  private static String adminFields(int opcode, long nsid, int cdw10, int cdw11) {
    return switch (opcode) {
      case NvmeOpcodes.ADMIN_IDENTIFY ->
          String.format("cns 0x%02x nsid %d csi %d", cdw10 & 0xff, nsid, cdw11 >>> 24);
      case NvmeOpcodes.ADMIN_CREATE_CQ ->
          String.format(
              "qid %d entries %d vector %d flags 0x%x",
              cdw10 & 0xffff, (cdw10 >>> 16) + 1, cdw11 >>> 16, cdw11 & 0xffff);
      case NvmeOpcodes.ADMIN_CREATE_SQ ->
          String.format(
              "qid %d entries %d cq %d flags 0x%x",
              cdw10 & 0xffff, (cdw10 >>> 16) + 1, cdw11 >>> 16, cdw11 & 0xffff);
      case NvmeOpcodes.ADMIN_DELETE_SQ, NvmeOpcodes.ADMIN_DELETE_CQ ->
          String.format("qid %d", cdw10 & 0xffff);
      case NvmeOpcodes.ADMIN_GET_FEATURES, NvmeOpcodes.ADMIN_SET_FEATURES ->
          String.format(
              "fid 0x%02x nsid %d cdw10 0x%x cdw11 0x%x", cdw10 & 0xff, nsid, cdw10, cdw11);
      case NvmeOpcodes.ADMIN_GET_LOG_PAGE ->
          String.format(
              "lid 0x%02x nsid %d bytes %d",
              cdw10 & 0xff, nsid, (((long) (cdw11 & 0xffff) << 16 | cdw10 >>> 16) + 1) * 4);
      case NvmeOpcodes.ADMIN_ABORT -> String.format("sqid %d cid %d", cdw10 & 0xffff, cdw10 >>> 16);
      default -> String.format("nsid %d cdw10 0x%x cdw11 0x%x", nsid, cdw10, cdw11);
    };
  }
}
