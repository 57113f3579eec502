package dev.upcie.nvme.driver;

import dev.upcie.support.WaitClock;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * A controller's recent commands: one {@link Lane} per queue, each a ring of preallocated primitive
 * arrays written only by the thread that drives the queue, so recording costs a few stores and no
 * allocation. Reading ({@link #records()}) is rare and allocates: it merges the lanes by submission
 * time and keeps the newest {@code capacity}.
 *
 * <p>Across queues the order is the submission time's. On a clock that stands still (a simulator's
 * virtual time) many commands share a time; then each I/O command is ordered against the admin
 * commands by the number of admin commands submitted before it ({@link #adminSubmitted}: written
 * under the controller's lock, only read by I/O threads, so it costs them no shared writes).
 * Commands of two I/O queues with the same time and epoch are ordered by queue id.
 *
 * <p>A lane is retired when its queue is deleted or lost (reset, close): its entries are copied out
 * and merged with the others retired, keeping the newest {@code capacity}, so a closed queue pair's
 * last commands still show.
 */
final class CommandHistory {
  private static final Comparator<Entry> ORDER =
      Comparator.comparingLong((Entry e) -> e.record().submittedNanos())
          .thenComparingInt(Entry::epoch)
          .thenComparing((Entry e) -> e.record().isAdmin()) // I/O seen before admin k, then k
          .thenComparingInt((Entry e) -> e.record().queueId())
          .thenComparingLong(Entry::sequence);

  private final int capacity;
  private final WaitClock clock;
  private final long origin;
  // Guarded by this; the lanes' own entries are written without it, by their queues' threads.
  private final List<Lane> lanes = new ArrayList<>();
  private final List<Entry> retired = new ArrayList<>();

  /** Admin commands submitted so far; written by the admin lane under the controller's lock. */
  int adminSubmitted;

  /** A history of the last {@code capacity} commands (at least 1) on {@code clock}, from now. */
  CommandHistory(int capacity, WaitClock clock) {
    this.capacity = capacity;
    this.clock = clock;
    this.origin = clock.nanoTime();
  }

  /** A new lane for queue {@code qid}, read by {@link #records()} until it is retired. */
  synchronized Lane lane(int qid) {
    Lane lane = new Lane(this, qid, capacity);
    lanes.add(lane);
    return lane;
  }

  /** Copies {@code lane}'s entries out and stops reading it: its queue is gone. */
  synchronized void retire(Lane lane) {
    if (lanes.remove(lane)) {
      lane.copyTo(retired);
      List<Entry> kept = newest(retired);
      retired.clear();
      retired.addAll(kept);
    }
  }

  /**
   * The newest {@code capacity} commands, oldest first. A queue that runs while this reads it may
   * show its newest command as outstanding when it has just completed, or miss one just submitted.
   */
  synchronized List<NvmeCommandRecord> records() {
    List<Entry> all = new ArrayList<>(retired);
    for (Lane lane : lanes) {
      lane.copyTo(all);
    }
    List<NvmeCommandRecord> records = new ArrayList<>();
    for (Entry entry : newest(all)) {
      records.add(entry.record());
    }
    return List.copyOf(records);
  }

  private List<Entry> newest(List<Entry> entries) {
    List<Entry> sorted = new ArrayList<>(entries);
    sorted.sort(ORDER);
    return new ArrayList<>(sorted.subList(Math.max(0, sorted.size() - capacity), sorted.size()));
  }

  /** A record with what orders it among the others. */
  record Entry(NvmeCommandRecord record, int epoch, long sequence) {}

  /**
   * One queue's ring of the last commands, a power of two at least the history's capacity. An entry
   * is found by its sequence number (the count of commands submitted before it on this lane), which
   * the queue keeps per command id until the command completes.
   */
  static final class Lane {
    private static final VarHandle WRITTEN;

    static {
      try {
        WRITTEN = MethodHandles.lookup().findVarHandle(Lane.class, "written", long.class);
      } catch (ReflectiveOperationException e) {
        throw new ExceptionInInitializerError(e);
      }
    }

    private static final byte OUTSTANDING = 0;
    private static final byte COMPLETED = 1;
    private static final byte TIMED_OUT = 2;
    private static final byte COMPLETED_AFTER_TIMEOUT = 3;
    private static final NvmeCommandRecord.State[] STATES = {
      NvmeCommandRecord.State.OUTSTANDING,
      NvmeCommandRecord.State.COMPLETED,
      NvmeCommandRecord.State.TIMED_OUT,
      NvmeCommandRecord.State.COMPLETED_AFTER_TIMEOUT
    };

    private final CommandHistory history;
    private final int qid;
    private final int mask;
    private final long[] submitted;
    private final long[] completed;
    private final int[] epochs;
    private final int[] commandIds;
    private final int[] opcodes;
    private final int[] nsids;
    private final int[] cdw10s;
    private final int[] cdw11s;
    private final int[] cdw12s;
    private final int[] statuses;
    private final int[] dw0s;
    private final byte[] states;

    /** Commands recorded; written with release after the entry, so readers see whole entries. */
    @SuppressWarnings("unused") // through WRITTEN
    private long written;

    private Lane(CommandHistory history, int qid, int capacity) {
      this.history = history;
      this.qid = qid;
      int size = Integer.highestOneBit(Math.max(1, capacity - 1)) << 1;
      this.mask = size - 1;
      this.submitted = new long[size];
      this.completed = new long[size];
      this.epochs = new int[size];
      this.commandIds = new int[size];
      this.opcodes = new int[size];
      this.nsids = new int[size];
      this.cdw10s = new int[size];
      this.cdw11s = new int[size];
      this.cdw12s = new int[size];
      this.statuses = new int[size];
      this.dw0s = new int[size];
      this.states = new byte[size];
    }

    /** The clock's time now: for completions, read once per batch reaped. */
    long now() {
      return history.clock.nanoTime();
    }

    /** Records a command submitted at {@code now} (clock time); returns its sequence number. */
    long submitted(long now, int cid, int opcode, int nsid, int cdw10, int cdw11, int cdw12) {
      long sequence = (long) WRITTEN.get(this);
      int at = (int) sequence & mask;
      submitted[at] = now - history.origin;
      completed[at] = -1;
      if (qid == 0) {
        epochs[at] = history.adminSubmitted++;
      } else {
        epochs[at] = history.adminSubmitted;
      }
      commandIds[at] = cid;
      opcodes[at] = opcode;
      nsids[at] = nsid;
      cdw10s[at] = cdw10;
      cdw11s[at] = cdw11;
      cdw12s[at] = cdw12;
      statuses[at] = 0;
      dw0s[at] = 0;
      states[at] = OUTSTANDING;
      WRITTEN.setRelease(this, sequence + 1);
      return sequence;
    }

    /**
     * Records the completion of command {@code sequence}, reaped at {@code now} (clock time), if
     * the ring still holds it.
     */
    void completed(long sequence, long now, int status, int dw0) {
      int at = (int) sequence & mask;
      if ((long) WRITTEN.get(this) - sequence > mask + 1) {
        return; // overwritten by newer commands
      }
      completed[at] = now - history.origin;
      statuses[at] = status;
      dw0s[at] = dw0;
      states[at] = states[at] == TIMED_OUT ? COMPLETED_AFTER_TIMEOUT : COMPLETED;
    }

    /** Records that command {@code sequence} was given up, if the ring still holds it. */
    void timedOut(long sequence) {
      if ((long) WRITTEN.get(this) - sequence <= mask + 1) {
        states[(int) sequence & mask] = TIMED_OUT;
      }
    }

    /** Adds the entries this lane holds to {@code entries}. */
    void copyTo(List<Entry> entries) {
      long end = (long) WRITTEN.getAcquire(this);
      List<Entry> copied = new ArrayList<>();
      for (long sequence = Math.max(0, end - (mask + 1)); sequence < end; sequence++) {
        int at = (int) sequence & mask;
        NvmeCommandRecord.State state = STATES[states[at]];
        long done = completed[at];
        boolean complete =
            state == NvmeCommandRecord.State.COMPLETED
                || state == NvmeCommandRecord.State.COMPLETED_AFTER_TIMEOUT;
        if (complete && done < 0) {
          // Caught between a completion's stores while the queue runs: not complete yet.
          state =
              state == NvmeCommandRecord.State.COMPLETED
                  ? NvmeCommandRecord.State.OUTSTANDING
                  : NvmeCommandRecord.State.TIMED_OUT;
        } else if (!complete) {
          done = -1;
        }
        copied.add(
            new Entry(
                new NvmeCommandRecord(
                    submitted[at],
                    qid,
                    commandIds[at],
                    opcodes[at],
                    nsids[at],
                    cdw10s[at],
                    cdw11s[at],
                    cdw12s[at],
                    state,
                    done,
                    done < 0 ? 0 : statuses[at],
                    done < 0 ? 0 : dw0s[at]),
                epochs[at],
                sequence));
      }
      // Entries the queue's thread overwrote while they were copied may be torn: drop them.
      long overwritten = (long) WRITTEN.getAcquire(this) - (mask + 1);
      for (Entry entry : copied) {
        if (entry.sequence() >= overwritten) {
          entries.add(entry);
        }
      }
    }
  }
}
