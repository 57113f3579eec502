package dev.upcie.nvme.driver;

import dev.upcie.nvme.NvmeStatus;

/**
 * A command the controller completed with an error status: which command, on which queue, and the
 * status as the specification names it.
 *
 * <pre>{@code
 * try {
 *   io.read(namespace, lba, blocks, buffer, 0);
 * } catch (NvmeCommandException e) {
 *   if (e.statusCode() == NvmeStatus.LBA_OUT_OF_RANGE && e.doNotRetry()) { ... }
 *   // e.getMessage(): "Read (nsid 1, slba 0x10000, 8 blocks) on queue 1 failed: LBA Out of
 *   //   Range (sct 0x0, sc 0x80), do not retry"
 * }
 * }</pre>
 */
public final class NvmeCommandException extends NvmeException {
  private static final long serialVersionUID = 1L;

  private final String command;
  private final int queueId;
  private final int status;

  NvmeCommandException(String command, int queueId, int status) {
    super(
        command
            + " on queue "
            + queueId
            + " failed: "
            + NvmeStatus.name(status)
            + String.format(
                " (sct 0x%x, sc 0x%02x)", NvmeStatus.type(status), NvmeStatus.code(status) & 0xff)
            + (NvmeStatus.doNotRetry(status) ? ", do not retry" : ", may be retried"));
    this.command = command;
    this.queueId = queueId;
    this.status = status;
  }

  /** The command as the message names it, such as {@code "Read (nsid 1, slba 0x0, 8 blocks)"}. */
  public String command() {
    return command;
  }

  /** The submission queue it ran on; 0 is the admin queue. */
  public int queueId() {
    return queueId;
  }

  /**
   * The 15-bit status field of the completion (Do Not Retry, More, type and code), as {@link
   * NvmeStatus} decodes it.
   */
  public int status() {
    return status;
  }

  /** The status code type and code, without the flags: compare with {@link NvmeStatus}'s. */
  public int statusCode() {
    return NvmeStatus.code(status);
  }

  /** The status code type: 0 generic, 1 command specific, 2 media and data integrity. */
  public int statusCodeType() {
    return NvmeStatus.type(status);
  }

  /** The specification's name for the status, such as {@code "LBA Out of Range"}. */
  public String statusName() {
    return NvmeStatus.name(status);
  }

  /** True if the controller said the same command would fail again. */
  public boolean doNotRetry() {
    return NvmeStatus.doNotRetry(status);
  }
}
