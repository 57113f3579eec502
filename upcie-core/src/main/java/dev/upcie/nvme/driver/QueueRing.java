package dev.upcie.nvme.driver;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeCompletionDescriptor;
import dev.upcie.nvme.NvmeRegisters;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

/**
 * A submission queue and its completion queue in DMA memory, with the host's side of them: tail,
 * head, phase, the doorbells, and a slot per command that may be outstanding.
 *
 * <p>A command's id is its slot's index. An SQ of {@code depth} entries has {@code depth - 1}
 * slots, so the SQ never fills (one entry stays empty to tell full from empty) and, with one SQ per
 * CQ of the same depth, neither does the CQ. Free slots are a LIFO stack, as in libvfn: the slot
 * freed last is warm in the cache. Each slot owns {@code listPages} pages for its PRP list. Nothing
 * here allocates after construction; descriptions of commands are built only for errors. Each
 * command placed, completed or given up is noted in the controller's history, if it keeps one.
 */
final class QueueRing {
  static final int PAGE = 4096;
  private static final int ENTRIES_PER_PAGE = PAGE / 8;
  private static final VarHandle STATUS_WORD = ValueLayout.JAVA_SHORT.varHandle();
  private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
  private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

  final int id;
  final int depth;
  final int listPages;
  private final Mmio bar0;
  private final long sqDoorbell;
  private final long cqDoorbell;
  private final DmaBuffer sqBuffer;
  private final DmaBuffer cqBuffer;
  private final DmaBuffer listBuffer;
  private final MemorySegment sq;
  private final MemorySegment cq;
  private final MemorySegment lists;

  private int tail;
  private int head;
  private int phase = 1;

  // Per slot: what is outstanding, for matching completions and for messages.
  private final int[] free;
  private int freeTop;
  private final boolean[] outstanding;
  private final boolean[] abandoned;
  private final long[] tags;
  private final int[] opcodes;
  private final int[] nsids;
  private final long[] slbas;
  private final int[] blockCounts;
  private final long[] submittedAt;
  private int outstandingCount;
  private int abandonedCount;
  private long spurious;

  // The completion reaped for each slot, read by synchronous callers once it is free.
  private final int[] statuses;
  private final int[] results;

  // The controller's history of this queue's commands (null if it keeps none), and where each
  // outstanding command's entry is in it.
  final CommandHistory.Lane history;
  private final long[] historyEntries;

  QueueRing(
      int id,
      int depth,
      int listPages,
      Mmio bar0,
      int dstrd,
      DmaHeap heap,
      DmaBuffer.Scope scope,
      CommandHistory.Lane history) {
    this.id = id;
    this.depth = depth;
    this.listPages = listPages;
    this.bar0 = bar0;
    this.sqDoorbell = NvmeRegisters.submissionTailDoorbell(id, dstrd);
    this.cqDoorbell = NvmeRegisters.completionHeadDoorbell(id, dstrd);
    int slots = depth - 1;
    // A queue must be contiguous for the device: aligning it to its size keeps it in one hugepage.
    long sqSize = (long) depth * NvmeCommandDescriptor.SIZE;
    long cqSize = (long) depth * NvmeCompletionDescriptor.SIZE;
    DmaBuffer sqb = null;
    DmaBuffer cqb = null;
    DmaBuffer lb = null;
    try {
      sqb = heap.allocate(sqSize, naturalAlignment(sqSize), scope);
      cqb = heap.allocate(cqSize, naturalAlignment(cqSize), scope);
      lb = heap.allocate((long) slots * listPages * PAGE, PAGE, scope);
    } catch (RuntimeException e) {
      for (DmaBuffer b : new DmaBuffer[] {lb, cqb, sqb}) {
        if (b != null) {
          b.close();
        }
      }
      throw e;
    }
    this.sqBuffer = sqb;
    this.cqBuffer = cqb;
    this.listBuffer = lb;
    this.sq = sqb.segment();
    this.cq = cqb.segment();
    this.lists = lb.segment();
    sq.fill((byte) 0);
    cq.fill((byte) 0);
    this.free = new int[slots];
    for (int i = 0; i < slots; i++) {
      free[i] = slots - 1 - i; // cid 0 on top
    }
    this.freeTop = slots;
    this.outstanding = new boolean[slots];
    this.abandoned = new boolean[slots];
    this.tags = new long[slots];
    this.opcodes = new int[slots];
    this.nsids = new int[slots];
    this.slbas = new long[slots];
    this.blockCounts = new int[slots];
    this.submittedAt = new long[slots];
    this.statuses = new int[slots];
    this.results = new int[slots];
    this.history = history;
    this.historyEntries = history == null ? null : new long[slots];
  }

  private static long naturalAlignment(long size) {
    return Math.max(PAGE, Long.highestOneBit(size - 1) << 1);
  }

  long submissionQueueAddress() {
    return sqBuffer.deviceAddressValue(0);
  }

  long completionQueueAddress() {
    return cqBuffer.deviceAddressValue(0);
  }

  /** Slots free for new commands. */
  int freeSlots() {
    return freeTop;
  }

  /** Commands submitted and not yet completed, abandoned ones included: slots taken. */
  int outstanding() {
    return outstandingCount;
  }

  /** Commands submitted, not yet completed and not abandoned: what callers wait for. */
  int pending() {
    return outstandingCount - abandonedCount;
  }

  /** Completions whose command id matched no outstanding command. */
  long spurious() {
    return spurious;
  }

  /** Takes a free slot; its index is the command id. Check {@link #freeSlots()} first. */
  int acquire(long tag, int opcode, int nsid, long slba, int blocks, long now) {
    int cid = free[--freeTop];
    outstanding[cid] = true;
    abandoned[cid] = false;
    tags[cid] = tag;
    opcodes[cid] = opcode;
    nsids[cid] = nsid;
    slbas[cid] = slba;
    blockCounts[cid] = blocks;
    submittedAt[cid] = now;
    outstandingCount++;
    return cid;
  }

  private void release(int cid) {
    outstanding[cid] = false;
    free[freeTop++] = cid;
    outstandingCount--;
  }

  /** Gives up on a command that timed out: its completion, if it ever comes, is dropped. */
  void abandon(int cid) {
    if (outstanding[cid] && !abandoned[cid]) {
      abandoned[cid] = true;
      abandonedCount++;
      if (history != null) {
        history.timedOut(historyEntries[cid]);
      }
    }
  }

  /**
   * Fills {@code cid}'s PRP list for the bytes of {@code buffer} from {@code offset} to {@code
   * offset + length} and returns PRP2: 0 if PRP1's page holds them all, the second page's address
   * if two pages do, else the list's. The list chains through the last entry of each full page.
   */
  long mapPrps(int cid, DmaBuffer buffer, long offset, long length, long prp1) {
    long first = PAGE - (prp1 & (PAGE - 1));
    if (length <= first) {
      return 0;
    }
    long rest = length - first;
    int pages = (int) ((rest + PAGE - 1) / PAGE);
    long next = offset + first;
    if (pages == 1) {
      return buffer.deviceAddressValue(next);
    }
    long base = (long) cid * listPages * PAGE;
    long listAddress = listBuffer.deviceAddressValue(base);
    int page = 0;
    int slot = 0;
    for (int i = 0; i < pages; i++) {
      if (slot == ENTRIES_PER_PAGE - 1 && pages - i > 1) {
        // The page's last entry points at the next list page.
        page++;
        lists.set(
            LONG,
            base + (long) (page - 1) * PAGE + slot * 8L,
            listBuffer.deviceAddressValue(base + (long) page * PAGE));
        slot = 0;
      }
      lists.set(
          LONG,
          base + (long) page * PAGE + slot * 8L,
          buffer.deviceAddressValue(next + (long) i * PAGE));
      slot++;
    }
    return listAddress;
  }

  /** The 16-byte-per-range buffer a Dataset Management command of {@code cid} may use. */
  MemorySegment rangeList(int cid) {
    return lists.asSlice((long) cid * listPages * PAGE, PAGE);
  }

  long rangeListAddress(int cid) {
    return listBuffer.deviceAddressValue((long) cid * listPages * PAGE);
  }

  /** Writes a command at the tail and moves the tail on, without ringing the doorbell. */
  void place(
      int cid,
      int opcode,
      int nsid,
      long prp1,
      long prp2,
      int cdw10,
      int cdw11,
      int cdw12,
      int cdw13,
      int cdw14,
      int cdw15) {
    long at = (long) tail * NvmeCommandDescriptor.SIZE;
    sq.set(INT, at, opcode | cid << 16);
    sq.set(INT, at + NvmeCommandDescriptor.NSID, nsid);
    sq.set(LONG, at + NvmeCommandDescriptor.CDW2, 0L);
    sq.set(LONG, at + NvmeCommandDescriptor.MPTR, 0L);
    sq.set(LONG, at + NvmeCommandDescriptor.PRP1, prp1);
    sq.set(LONG, at + NvmeCommandDescriptor.PRP2, prp2);
    sq.set(INT, at + NvmeCommandDescriptor.CDW10, cdw10);
    sq.set(INT, at + NvmeCommandDescriptor.CDW11, cdw11);
    sq.set(INT, at + NvmeCommandDescriptor.CDW12, cdw12);
    sq.set(INT, at + NvmeCommandDescriptor.CDW13, cdw13);
    sq.set(INT, at + NvmeCommandDescriptor.CDW14, cdw14);
    sq.set(INT, at + NvmeCommandDescriptor.CDW15, cdw15);
    tail = tail + 1 == depth ? 0 : tail + 1;
    if (history != null) {
      historyEntries[cid] =
          history.submitted(submittedAt[cid], cid, opcode, nsid, cdw10, cdw11, cdw12);
    }
  }

  /** Tells the controller about everything placed: the entries are visible before the write. */
  void ringSubmission() {
    bar0.putIntRelease(sqDoorbell, tail);
  }

  /**
   * Reaps up to {@code max} completions: frees their slots, keeps each one's status and result (see
   * {@link #status(int)}) and hands it to {@code handler} if there is one. Rings the CQ head
   * doorbell once if anything was reaped.
   */
  int reap(int max, CompletionHandler handler) {
    int consumed = 0;
    int reaped = 0;
    // For the history: the clock is read once per batch, when the first completion is found.
    boolean clockRead = false;
    long now = 0;
    try {
      while (reaped < max) {
        long at = (long) head * NvmeCompletionDescriptor.SIZE;
        int word =
            Short.toUnsignedInt(
                (short) STATUS_WORD.getAcquire(cq, at + NvmeCompletionDescriptor.STATUS));
        if ((word & 1) != phase) {
          break;
        }
        int cid = Short.toUnsignedInt(cq.get(ValueLayout.JAVA_SHORT, at + 12));
        int result = cq.get(INT, at + NvmeCompletionDescriptor.DW0);
        head++;
        if (head == depth) {
          head = 0;
          phase ^= 1;
        }
        consumed++;
        if (cid >= outstanding.length || !outstanding[cid]) {
          spurious++;
          continue;
        }
        boolean dropped = abandoned[cid];
        long tag = tags[cid];
        int status = word >>> 1;
        statuses[cid] = status;
        results[cid] = result;
        if (history != null) {
          if (!clockRead) {
            now = history.now();
            clockRead = true;
          }
          history.completed(historyEntries[cid], now, status, result);
        }
        if (dropped) {
          abandoned[cid] = false;
          abandonedCount--;
          release(cid);
          continue;
        }
        reaped++;
        if (handler == null) {
          release(cid);
          continue;
        }
        // The slot stays taken while the handler describes a failure, then is freed.
        NvmeCommandException error =
            status == 0 ? null : new NvmeCommandException(describe(cid), id, status);
        release(cid);
        handler.completed(tag, result, error);
      }
    } finally {
      // Even if a handler throws, the controller learns what was consumed.
      if (consumed > 0) {
        bar0.putIntRelease(cqDoorbell, head);
      }
    }
    return reaped;
  }

  /** True if a completion waits at the head. */
  boolean completionReady() {
    long at = (long) head * NvmeCompletionDescriptor.SIZE;
    int word =
        Short.toUnsignedInt(
            (short) STATUS_WORD.getAcquire(cq, at + NvmeCompletionDescriptor.STATUS));
    return (word & 1) == phase;
  }

  /** The status of the last command completed in slot {@code cid}. */
  int status(int cid) {
    return statuses[cid];
  }

  /** Dword 0 of the last command completed in slot {@code cid}. */
  int result(int cid) {
    return results[cid];
  }

  boolean isAbandoned(int cid) {
    return abandoned[cid];
  }

  boolean isOutstanding(int cid) {
    return outstanding[cid];
  }

  /** The oldest outstanding command that is not abandoned, or -1. */
  int oldestOutstanding() {
    int oldest = -1;
    for (int cid = 0; cid < outstanding.length; cid++) {
      if (outstanding[cid]
          && !abandoned[cid]
          && (oldest < 0 || submittedAt[cid] - submittedAt[oldest] < 0)) {
        oldest = cid;
      }
    }
    return oldest;
  }

  long submittedAt(int cid) {
    return submittedAt[cid];
  }

  /** The command in {@code cid}, for a message: {@code "Read (nsid 1, slba 0x0, 8 blocks)"}. */
  String describe(int cid) {
    return Commands.describe(id == 0, opcodes[cid], nsids[cid], slbas[cid], blockCounts[cid]);
  }

  /** Frees the memory; the controller must no longer use the queues. */
  void free() {
    RuntimeException failure = null;
    for (DmaBuffer b : new DmaBuffer[] {listBuffer, cqBuffer, sqBuffer}) {
      try {
        b.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
