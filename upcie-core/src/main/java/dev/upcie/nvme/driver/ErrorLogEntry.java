package dev.upcie.nvme.driver;

import static dev.upcie.nvme.driver.Bytes.u16;
import static dev.upcie.nvme.driver.Bytes.u32;
import static dev.upcie.nvme.driver.Bytes.u64;
import static dev.upcie.nvme.driver.Bytes.u8;

import dev.upcie.nvme.NvmeStatus;
import java.lang.foreign.MemorySegment;

/**
 * One entry of the Error Information log page (01h). An entry whose {@code errorCount} is 0 is
 * empty.
 *
 * @param errorCount a unique, increasing number for the error
 * @param submissionQueueId the queue of the failed command
 * @param commandId its command id
 * @param status the completion's status field, as {@link NvmeStatus} decodes it
 * @param parameterErrorLocation the byte and bit of the command at fault
 * @param lba the first LBA that failed, if any
 * @param nsid the namespace, if any
 * @param vendorSpecific a vendor-specific log page with more, if non-zero
 * @param commandSpecific command-specific information
 */
public record ErrorLogEntry(
    long errorCount,
    int submissionQueueId,
    int commandId,
    int status,
    int parameterErrorLocation,
    long lba,
    long nsid,
    int vendorSpecific,
    long commandSpecific) {

  /** Bytes per entry. */
  static final int SIZE = 64;

  static ErrorLogEntry decode(MemorySegment d, long at) {
    return new ErrorLogEntry(
        u64(d, at),
        u16(d, at + 8),
        u16(d, at + 10),
        u16(d, at + 12) >>> 1,
        u16(d, at + 14),
        u64(d, at + 16),
        u32(d, at + 24),
        u8(d, at + 28),
        u64(d, at + 32));
  }

  /** True if the entry holds no error. */
  public boolean isEmpty() {
    return errorCount == 0;
  }

  @Override
  public String toString() {
    return "ErrorLogEntry[#"
        + Long.toUnsignedString(errorCount)
        + ", sq "
        + submissionQueueId
        + " cid "
        + commandId
        + ", "
        + NvmeStatus.describe(status)
        + ", lba 0x"
        + Long.toHexString(lba)
        + ", nsid "
        + nsid
        + "]";
  }
}
