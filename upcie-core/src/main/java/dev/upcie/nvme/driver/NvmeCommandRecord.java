package dev.upcie.nvme.driver;

import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import java.util.Objects;

/**
 * One command in a controller's {@link NvmeController#history() history}: what was submitted, on
 * which queue, and how it ended, if it has.
 *
 * <pre>{@code
 * for (NvmeCommandRecord command : nvme.history()) {
 *   System.out.println(command);
 * }
 * // +0.012 ms  q0 cid 0  Identify (nsid 0, cdw10 0x1) -> Successful Completion (0x0000) in 9 µs
 * // +3.207 ms  q1 cid 2  Read (nsid 1, slba 0x100, 8 blocks) -> LBA Out of Range (0x0080), DNR in 4 µs
 * // +3.311 ms  q1 cid 1  Write (nsid 1, slba 0x0, 1 block) -> timed out
 * }</pre>
 *
 * <p>Times are on the controller's {@link NvmeControllerOptions#clock() clock}, in nanoseconds
 * since the controller was opened; on a simulator's virtual time they move only when the simulated
 * machine's time does.
 *
 * @param submittedNanos when the driver submitted the command, since the controller was opened
 * @param queueId the submission queue: 0 is the admin queue
 * @param commandId the command id (the queue's slot; ids are reused once a command completes)
 * @param opcode the opcode, an admin one on queue 0 and an NVM one elsewhere ({@link NvmeOpcodes})
 * @param nsid the namespace id, as sent
 * @param cdw10 command dword 10, as sent (for Read and Write: the SLBA's low half)
 * @param cdw11 command dword 11, as sent (for Read and Write: the SLBA's high half)
 * @param cdw12 command dword 12, as sent (for Read and Write: the 0-based block count in bits 0-15)
 * @param state whether it completed, is still outstanding or was given up
 * @param completedNanos when the driver reaped its completion, since the controller was opened; -1
 *     if it has not
 * @param status the completion's 15-bit status field ({@link NvmeStatus}: SCT, SC, More, DNR); 0 if
 *     it has not completed
 * @param dw0 the completion's Dword 0; 0 if it has not completed
 */
public record NvmeCommandRecord(
    long submittedNanos,
    int queueId,
    int commandId,
    int opcode,
    int nsid,
    int cdw10,
    int cdw11,
    int cdw12,
    State state,
    long completedNanos,
    int status,
    int dw0) {

  /** How far a command got. */
  public enum State {
    /** Submitted; its completion has not been reaped yet. */
    OUTSTANDING,
    /** Its completion was reaped: see {@link #status()}. */
    COMPLETED,
    /** Given up after the command timeout; no completion has come since. */
    TIMED_OUT,
    /** Given up after the command timeout, then completed anyway (the completion was dropped). */
    COMPLETED_AFTER_TIMEOUT
  }

  /** Checks that the completion time is there (0 or more) exactly when the state says so. */
  public NvmeCommandRecord {
    Objects.requireNonNull(state, "state");
    boolean completed = state == State.COMPLETED || state == State.COMPLETED_AFTER_TIMEOUT;
    if (completed && completedNanos < 0) {
      throw new IllegalArgumentException(
          "a " + state + " command needs its completion time, not " + completedNanos);
    }
    if (!completed && completedNanos != -1) {
      throw new IllegalArgumentException(
          "a " + state + " command has no completion time: -1, not " + completedNanos);
    }
  }

  /** True for an admin command (queue 0). */
  public boolean isAdmin() {
    return queueId == 0;
  }

  /** True if its completion was reaped, in time or late; {@link #status()} is then its status. */
  public boolean hasCompleted() {
    return completedNanos >= 0;
  }

  /** True if it carries an LBA range in CDW10-12: Read, Write, Write Zeroes, Compare, Verify. */
  public boolean hasLbaRange() {
    return !isAdmin()
        && switch (opcode) {
          case NvmeOpcodes.IO_READ,
              NvmeOpcodes.IO_WRITE,
              NvmeOpcodes.IO_WRITE_ZEROES,
              NvmeOpcodes.IO_COMPARE,
              NvmeOpcodes.IO_VERIFY ->
              true;
          default -> false;
        };
  }

  /** The starting LBA (CDW10-11) if {@link #hasLbaRange()}, else 0. */
  public long slba() {
    return hasLbaRange() ? Integer.toUnsignedLong(cdw10) | (long) cdw11 << 32 : 0;
  }

  /** The number of blocks (CDW12's 0-based NLB, plus 1) if {@link #hasLbaRange()}, else 0. */
  public int blocks() {
    return hasLbaRange() ? (cdw12 & 0xffff) + 1 : 0;
  }

  /** The command's name: {@code "Read"}, {@code "Identify"}. */
  public String name() {
    return isAdmin() ? NvmeOpcodes.adminName(opcode) : NvmeOpcodes.ioName(opcode);
  }

  /**
   * One line: when, where, what and how it ended, such as {@code +3.207 ms q1 cid 2 Read (nsid 1,
   * slba 0x100, 8 blocks) -> LBA Out of Range (0x0080), DNR in 4 µs}; {@code -> outstanding} and
   * {@code -> timed out} for commands without a completion.
   */
  @Override
  public String toString() {
    StringBuilder line =
        new StringBuilder(String.format("+%d.%03d ms", submittedNanos / 1_000_000, micros()))
            .append("  q")
            .append(queueId)
            .append(" cid ")
            .append(commandId)
            .append("  ")
            .append(name())
            .append(" (nsid ")
            .append(nsidText());
    if (hasLbaRange()) {
      line.append(", slba 0x")
          .append(Long.toHexString(slba()))
          .append(", ")
          .append(blocks())
          .append(blocks() == 1 ? " block" : " blocks");
    } else {
      // What admin and other NVM commands mean is in their dwords: CNS, FID, LID, queue id.
      appendDword(line, "cdw10", cdw10, isAdmin());
      appendDword(line, "cdw11", cdw11, false);
      appendDword(line, "cdw12", cdw12, false);
    }
    line.append(") -> ");
    switch (state) {
      case OUTSTANDING -> line.append("outstanding");
      case TIMED_OUT -> line.append("timed out");
      case COMPLETED -> appendCompletion(line);
      case COMPLETED_AFTER_TIMEOUT -> appendCompletion(line.append("timed out, then "));
    }
    return line.toString();
  }

  private long micros() {
    return (submittedNanos % 1_000_000) / 1_000;
  }

  private String nsidText() {
    return nsid == -1 ? "0xffffffff" : Integer.toUnsignedString(nsid);
  }

  private static void appendDword(StringBuilder line, String name, int value, boolean always) {
    if (always || value != 0) {
      line.append(", ").append(name).append(" 0x").append(Integer.toHexString(value));
    }
  }

  private void appendCompletion(StringBuilder line) {
    line.append(NvmeStatus.describe(status));
    if (dw0 != 0) {
      line.append(", dw0 0x").append(Integer.toHexString(dw0));
    }
    line.append(" in ").append(duration(completedNanos - submittedNanos));
  }

  /** {@code 850 ns}, {@code 18 µs}, {@code 2.500 ms}, {@code 30.001 s}. */
  private static String duration(long nanos) {
    if (nanos < 1_000) {
      return nanos + " ns";
    }
    if (nanos < 1_000_000) {
      return nanos / 1_000 + " µs";
    }
    if (nanos < 1_000_000_000) {
      return String.format("%d.%03d ms", nanos / 1_000_000, nanos % 1_000_000 / 1_000);
    }
    return String.format("%d.%03d s", nanos / 1_000_000_000, nanos % 1_000_000_000 / 1_000_000);
  }
}
