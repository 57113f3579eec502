package dev.upcie.nvme;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * A completion queue entry as the controller wrote it (NVMe base specification 1.4, figure 121),
 * for tests and tools that look at raw completions: the driver itself reads entries in place,
 * without allocating.
 *
 * <pre>{@code
 * NvmeCompletion entry = NvmeCompletion.read(cq.segment(), head * NvmeCompletionDescriptor.SIZE);
 * if (entry.phase() == expectedPhase && !entry.isSuccessful()) {
 *   System.out.println(entry); // "NvmeCompletion[cid 7, status LBA Out of Range (0x0080), DNR, ..."
 * }
 * }</pre>
 *
 * @param dw0 command-specific dword 0
 * @param dw1 command-specific dword 1
 * @param sqHead the submission queue's head pointer when the entry was posted
 * @param sqId the submission queue the command came from
 * @param commandId the command identifier
 * @param phase the phase tag
 * @param status the 15-bit status field (without the phase tag), as {@link NvmeStatus} decodes it
 */
public record NvmeCompletion(
    int dw0, int dw1, int sqHead, int sqId, int commandId, boolean phase, int status) {
  // NVMe is little-endian; unaligned layouts read an entry from any segment, a byte[] included.
  private static final ValueLayout.OfInt INT =
      ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
  private static final ValueLayout.OfShort SHORT =
      ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

  /** Checks that the 16-bit fields and the 15-bit status are in range. */
  public NvmeCompletion {
    check("sqHead", sqHead, 0xffff);
    check("sqId", sqId, 0xffff);
    check("commandId", commandId, 0xffff);
    check("status", status, 0x7fff);
  }

  /**
   * Reads the 16-byte entry at {@code offset} of {@code segment} as it is now. Whether it is a new
   * entry is for the caller to tell from the {@link #phase()}.
   *
   * @throws IndexOutOfBoundsException if the entry does not lie within {@code segment}
   */
  public static NvmeCompletion read(MemorySegment segment, long offset) {
    if (offset < 0 || offset > segment.byteSize() - NvmeCompletionDescriptor.SIZE) {
      throw new IndexOutOfBoundsException(
          "a 16-byte completion entry at offset 0x"
              + Long.toHexString(offset)
              + " does not fit in a segment of "
              + segment.byteSize()
              + " bytes");
    }
    int word = Short.toUnsignedInt(segment.get(SHORT, offset + NvmeCompletionDescriptor.STATUS));
    return new NvmeCompletion(
        segment.get(INT, offset + NvmeCompletionDescriptor.DW0),
        segment.get(INT, offset + NvmeCompletionDescriptor.DW1),
        Short.toUnsignedInt(segment.get(SHORT, offset + NvmeCompletionDescriptor.SQ_HEAD)),
        Short.toUnsignedInt(segment.get(SHORT, offset + NvmeCompletionDescriptor.SQ_ID)),
        Short.toUnsignedInt(segment.get(SHORT, offset + NvmeCompletionDescriptor.COMMAND_ID)),
        (word & 1) == 1,
        word >>> 1);
  }

  /** True if the command succeeded: status code type and code 0, whatever the flags. */
  public boolean isSuccessful() {
    return statusCode() == NvmeStatus.SUCCESS;
  }

  /** The status code type and code without the flags: compare with {@link NvmeStatus}'s. */
  public int statusCode() {
    return NvmeStatus.code(status);
  }

  /** SCT: the status code type, 0 generic, 1 command specific, 2 media and data integrity. */
  public int statusCodeType() {
    return NvmeStatus.type(status);
  }

  /** CRD: which Command Retry Delay Time applies before a retry, 0 for none. */
  public int commandRetryDelay() {
    return (status >>> 11) & 0x3;
  }

  /** M: more status information is in the Error Information log page. */
  public boolean more() {
    return (status & NvmeStatus.MORE) != 0;
  }

  /** DNR: the same command would fail again. */
  public boolean doNotRetry() {
    return NvmeStatus.doNotRetry(status);
  }

  /**
   * {@code NvmeCompletion[cid 7, status LBA Out of Range (0x0080), DNR, dw0 0x0, sq 1 head 4, phase
   * 1]}.
   */
  @Override
  public String toString() {
    return String.format(
        "NvmeCompletion[cid %d, status %s%s, dw0 0x%x, sq %d head %d, phase %d]",
        commandId,
        NvmeStatus.describe(status),
        commandRetryDelay() == 0 ? "" : ", CRD " + commandRetryDelay(),
        dw0,
        sqId,
        sqHead,
        phase ? 1 : 0);
  }

  private static void check(String name, int value, int max) {
    if (value < 0 || value > max) {
      throw new IllegalArgumentException(
          name
              + " 0x"
              + Integer.toHexString(value)
              + " is outside 0 to 0x"
              + Integer.toHexString(max));
    }
  }
}
