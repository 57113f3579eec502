package dev.upcie.nvme;

/**
 * The layout of a 16-byte NVMe completion queue entry (NVMe base specification 1.4, figure 121), as
 * byte offsets into the entry.
 *
 * <p>The 16-bit word at {@link #STATUS} holds the phase tag in bit 0 and the status field above it:
 * {@code status = word >>> 1}, which {@link NvmeStatus} decodes.
 */
public final class NvmeCompletionDescriptor {
  /** Bytes in one entry (CC.IOCQES 4). */
  public static final int SIZE = 16;

  /** Command-specific dword 0, 32 bits. */
  public static final int DW0 = 0;

  /** Command-specific dword 1, 32 bits. */
  public static final int DW1 = 4;

  /** The submission queue's head pointer when the entry was posted, 16 bits. */
  public static final int SQ_HEAD = 8;

  /** The submission queue the command came from, 16 bits. */
  public static final int SQ_ID = 10;

  /** The command identifier, 16 bits. */
  public static final int COMMAND_ID = 12;

  /** Phase tag (bit 0) and status field (bits 1-15), 16 bits. */
  public static final int STATUS = 14;

  private NvmeCompletionDescriptor() {}
}
