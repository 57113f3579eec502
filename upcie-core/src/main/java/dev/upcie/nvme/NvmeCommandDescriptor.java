package dev.upcie.nvme;

/**
 * The layout of a 64-byte NVMe submission queue entry (NVMe base specification 1.4, figure 105), as
 * byte offsets into the entry, in the style of Agrona's {@code *Descriptor} classes.
 *
 * <pre>{@code
 * MemorySegment sqe = submissions.asSlice(tail * NvmeCommandDescriptor.SIZE, NvmeCommandDescriptor.SIZE);
 * sqe.set(JAVA_BYTE, NvmeCommandDescriptor.OPCODE, (byte) NvmeOpcodes.ADMIN_IDENTIFY);
 * sqe.set(JAVA_SHORT, NvmeCommandDescriptor.COMMAND_ID, (short) cid);
 * sqe.set(JAVA_LONG, NvmeCommandDescriptor.PRP1, buffer.deviceAddress().value());
 * }</pre>
 */
public final class NvmeCommandDescriptor {
  /** Bytes in one entry (CC.IOSQES 6). */
  public static final int SIZE = 64;

  /** Opcode, 8 bits. */
  public static final int OPCODE = 0;

  /** Fused operation (bits 0-1) and PRP or SGL for data transfer, PSDT (bits 6-7), 8 bits. */
  public static final int FLAGS = 1;

  /** Command identifier, 16 bits: echoed in the completion. */
  public static final int COMMAND_ID = 2;

  /** Namespace identifier, 32 bits. */
  public static final int NSID = 4;

  /** Command dword 2, 32 bits. */
  public static final int CDW2 = 8;

  /** Command dword 3, 32 bits. */
  public static final int CDW3 = 12;

  /** Metadata pointer, 64 bits. */
  public static final int MPTR = 16;

  /** Data pointer: PRP entry 1, 64 bits. */
  public static final int PRP1 = 24;

  /** Data pointer: PRP entry 2 (a second page, or a PRP list), 64 bits. */
  public static final int PRP2 = 32;

  /** Command dword 10, 32 bits; dwords 11 to 15 follow, 4 bytes apart. */
  public static final int CDW10 = 40;

  /** Command dword 11. */
  public static final int CDW11 = 44;

  /** Command dword 12. */
  public static final int CDW12 = 48;

  /** Command dword 13. */
  public static final int CDW13 = 52;

  /** Command dword 14. */
  public static final int CDW14 = 56;

  /** Command dword 15. */
  public static final int CDW15 = 60;

  /** Namespace identifier meaning every namespace. */
  public static final int NSID_BROADCAST = 0xffffffff;

  private NvmeCommandDescriptor() {}
}
