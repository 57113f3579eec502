package dev.upcie.nvme.driver;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.nvme.driver.NvmeCommandRecord.State;
import dev.upcie.support.WaitClock;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The command history's bookkeeping without a device: lanes merged in submission order, bounded,
 * states from outstanding to timed out, and the one-line form a failure report prints.
 */
class CommandHistoryTest {
  /** A clock that moves only when told, starting far from 0 as System.nanoTime may. */
  private static final class Clock implements WaitClock {
    long now = 5_000_000_000L;

    @Override
    public long nanoTime() {
      return now;
    }

    @Override
    public void pause(long nanos) {
      now += nanos;
    }
  }

  private final Clock clock = new Clock();

  private static long read(CommandHistory.Lane lane, long now, int cid, long slba, int blocks) {
    return lane.submitted(
        now, cid, NvmeOpcodes.IO_READ, 1, (int) slba, (int) (slba >>> 32), blocks - 1);
  }

  @Test
  void timesCountFromTheHistorysStartAndCompletionsFillInTheirEntry() {
    CommandHistory history = new CommandHistory(8, clock);
    CommandHistory.Lane io = history.lane(1);
    clock.now += 12_345_678;
    long entry = read(io, clock.now, 7, 0x100, 8);
    clock.now += 18_000;
    io.completed(entry, io.now(), 0, 0);

    NvmeCommandRecord record = history.records().getFirst();

    assertThat(record.submittedNanos()).isEqualTo(12_345_678);
    assertThat(record.completedNanos()).isEqualTo(12_363_678);
    assertThat(record.state()).isEqualTo(State.COMPLETED);
    assertThat(record.slba()).isEqualTo(0x100);
    assertThat(record.blocks()).isEqualTo(8);
    assertThat(record)
        .hasToString(
            "+12.345 ms  q1 cid 7  Read (nsid 1, slba 0x100, 8 blocks)"
                + " -> Successful Completion (0x0000) in 18 µs");
  }

  @Test
  void lanesMergeBySubmissionTime() {
    CommandHistory history = new CommandHistory(8, clock);
    CommandHistory.Lane admin = history.lane(0);
    CommandHistory.Lane q1 = history.lane(1);
    CommandHistory.Lane q2 = history.lane(2);
    read(q2, clock.now + 3, 0, 30, 1);
    read(q1, clock.now + 1, 0, 10, 1);
    admin.submitted(clock.now + 2, 0, NvmeOpcodes.ADMIN_GET_LOG_PAGE, -1, 0x7f0002, 0, 0);
    read(q1, clock.now + 4, 1, 40, 1);

    assertThat(history.records())
        .extracting(r -> r.queueId() + ":" + r.cdw10())
        .containsExactly("1:10", "0:" + 0x7f0002, "2:30", "1:40");
  }

  /**
   * On a clock that stands still (virtual time) every command has the same time; I/O is still
   * ordered against admin commands by how many admin commands came before it.
   */
  @Test
  void onAStillClockIoIsOrderedAgainstTheAdminCommandsBeforeIt() {
    CommandHistory history = new CommandHistory(16, clock);
    CommandHistory.Lane admin = history.lane(0);
    CommandHistory.Lane q1 = history.lane(1);
    long t = clock.now;
    admin.submitted(t, 0, NvmeOpcodes.ADMIN_IDENTIFY, 0, 1, 0, 0);
    admin.submitted(t, 0, NvmeOpcodes.ADMIN_CREATE_CQ, 0, 1, 0, 0);
    read(q1, t, 0, 1, 1);
    read(q1, t, 1, 2, 1);
    admin.submitted(t, 0, NvmeOpcodes.ADMIN_GET_LOG_PAGE, 0, 2, 0, 0);
    read(q1, t, 0, 3, 1);

    assertThat(history.records())
        .extracting(NvmeCommandRecord::name)
        .containsExactly("Identify", "Create I/O CQ", "Read", "Read", "Get Log Page", "Read");
  }

  @Test
  void keepsTheNewestAcrossLanesAndIgnoresCompletionsOfEntriesOverwritten() {
    CommandHistory history = new CommandHistory(3, clock);
    CommandHistory.Lane q1 = history.lane(1); // a ring of 4
    CommandHistory.Lane q2 = history.lane(2);
    long first = read(q1, clock.now + 1, 0, 1, 1);
    for (int i = 2; i <= 5; i++) {
      read(q1, clock.now + i, 1, i, 1);
    }
    read(q2, clock.now + 6, 0, 6, 1);
    q1.completed(first, clock.now + 7, NvmeStatus.WRITE_FAULT, 0); // long gone: changes nothing

    List<NvmeCommandRecord> records = history.records();

    assertThat(records).extracting(NvmeCommandRecord::slba).containsExactly(4L, 5L, 6L);
    assertThat(records).extracting(NvmeCommandRecord::state).containsOnly(State.OUTSTANDING);
  }

  @Test
  void aRetiredLaneStillShowsUntilNewerCommandsPushItOut() {
    CommandHistory history = new CommandHistory(2, clock);
    CommandHistory.Lane old = history.lane(1);
    read(old, clock.now + 1, 0, 1, 1);
    read(old, clock.now + 2, 0, 2, 1);
    history.retire(old);
    history.retire(old); // twice is harmless
    CommandHistory.Lane again = history.lane(1);
    read(again, clock.now + 3, 0, 3, 1);

    assertThat(history.records()).extracting(NvmeCommandRecord::slba).containsExactly(2L, 3L);
  }

  @Test
  void aCommandGivenUpShowsAsTimedOutAndAsSuchIfItCompletesLate() {
    CommandHistory history = new CommandHistory(4, clock);
    CommandHistory.Lane io = history.lane(1);
    long entry = io.submitted(clock.now + 1_000, 3, NvmeOpcodes.IO_WRITE, 2, 0x99, 0, 0);
    long other = read(io, clock.now + 2_000, 4, 0x98, 1);
    io.timedOut(entry);

    assertThat(history.records().getFirst().state()).isEqualTo(State.TIMED_OUT);
    assertThat(history.records().getFirst())
        .hasToString("+0.001 ms  q1 cid 3  Write (nsid 2, slba 0x99, 1 block) -> timed out");
    assertThat(history.records().getLast())
        .hasToString("+0.002 ms  q1 cid 4  Read (nsid 1, slba 0x98, 1 block) -> outstanding");

    io.completed(entry, clock.now + 2_500_001_000L, NvmeStatus.ABORTED_SQ_DELETION, 0);
    io.completed(other, clock.now + 3_000, NvmeStatus.SUCCESS, 0);

    NvmeCommandRecord late = history.records().getFirst();
    assertThat(late.state()).isEqualTo(State.COMPLETED_AFTER_TIMEOUT);
    assertThat(late.hasCompleted()).isTrue();
    assertThat(late)
        .hasToString(
            "+0.001 ms  q1 cid 3  Write (nsid 2, slba 0x99, 1 block) -> timed out, then Command"
                + " Aborted due to SQ Deletion (0x0008) in 2.500 s");
    assertThat(history.records().getLast())
        .hasToString(
            "+0.002 ms  q1 cid 4  Read (nsid 1, slba 0x98, 1 block)"
                + " -> Successful Completion (0x0000) in 1 µs");
  }

  @Test
  void adminCommandsShowTheirDwordsAndFailuresTheirStatusAndDw0() {
    CommandHistory history = new CommandHistory(4, clock);
    CommandHistory.Lane admin = history.lane(0);
    long features =
        admin.submitted(clock.now, 1, NvmeOpcodes.ADMIN_SET_FEATURES, 0, 0x7, 0x70007, 0);
    admin.completed(features, clock.now + 2_500_000, 0, 0x3f003f);
    long log = admin.submitted(clock.now, 2, NvmeOpcodes.ADMIN_GET_LOG_PAGE, -1, 0x0, 0, 0);
    admin.completed(log, clock.now + 900, NvmeStatus.INVALID_LOG_PAGE | NvmeStatus.DNR, 0);

    assertThat(history.records())
        .extracting(NvmeCommandRecord::toString)
        .containsExactly(
            "+0.000 ms  q0 cid 1  Set Features (nsid 0, cdw10 0x7, cdw11 0x70007)"
                + " -> Successful Completion (0x0000), dw0 0x3f003f in 2.500 ms",
            "+0.000 ms  q0 cid 2  Get Log Page (nsid 0xffffffff, cdw10 0x0)"
                + " -> Invalid Log Page (0x0109), DNR in 900 ns");
    assertThat(history.records().getLast().slba()).as("admin: no LBA range").isZero();
  }

  @Test
  void aRecordsCompletionTimeMatchesItsState() {
    assertThatThrownBy(
            () -> new NvmeCommandRecord(0, 1, 0, 2, 1, 0, 0, 0, State.COMPLETED, -1, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a COMPLETED command needs its completion time, not -1");
    assertThatThrownBy(
            () -> new NvmeCommandRecord(0, 1, 0, 2, 1, 0, 0, 0, State.TIMED_OUT, 5, 0, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("a TIMED_OUT command has no completion time: -1, not 5");
  }

  @Test
  void theOptionsKeep64ByDefaultAndRefuseNegativeSizes() {
    assertThat(NvmeControllerOptions.defaults().historySize()).isEqualTo(64);
    assertThat(NvmeControllerOptions.builder().historySize(0).build().historySize()).isZero();
    assertThatThrownBy(() -> NvmeControllerOptions.builder().historySize(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("historySize must be 0 (none) to 65536 commands, not -1");
  }
}
