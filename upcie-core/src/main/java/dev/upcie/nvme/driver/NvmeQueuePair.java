package dev.upcie.nvme.driver;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.support.NotSupportedException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;

/**
 * An I/O submission queue and its completion queue: where reads and writes go.
 *
 * <p>Synchronous calls ({@link #read}, {@link #write}, {@link #flush}, {@link #writeZeroes}, {@link
 * #deallocate}) return when the controller has completed the command, and split what is larger than
 * one command may move (MDTS) into several, in flight together. The asynchronous calls submit and
 * return at once; {@link #reap} and {@link #await} hand completions to a {@link CompletionHandler}
 * as the controller posts them, in any order, matched to their commands by id:
 *
 * <pre>{@code
 * long[] done = new long[1];
 * CompletionHandler counter = (tag, result, error) -> {
 *   if (error != null) throw error;
 *   done[0]++;
 * };
 * for (int i = 0; i < 32; i++) {
 *   io.submitRead(ns, lba[i], 8, buffer, i * 4096L, i);
 * }
 * io.await(32, Duration.ofSeconds(5), counter);
 * }</pre>
 *
 * <p>Every range is checked against the namespace, and every buffer against the transfer, before
 * anything reaches the device: a mistake is an {@link IllegalArgumentException} and the controller
 * never sees the command. After setup nothing here allocates on success.
 *
 * <p><b>Threads.</b> A queue pair is not thread-safe. By default its memory is confined to the
 * thread that created it (freeing confined memory is nearly free; shared memory costs tens of
 * microseconds, see {@code docs/benchmarks.md}), and only that thread may use it. To hand one to
 * another thread, create it with {@link QueuePairOptions#withSharedMemory()}; then one thread at a
 * time may use it, handing it over through something that orders memory (a queue, an executor, a
 * lock). Creating one queue pair per thread, on that thread, is the fast and simple way.
 */
public final class NvmeQueuePair implements AutoCloseable {
  private static final long MAX_BLOCKS_PER_COMMAND = 1 << 16;
  private static final long MAX_DEALLOCATE_BLOCKS = 0xffff_ffffL;

  private final NvmeController controller;
  private final QueueRing ring;
  private final DmaHeap heap;
  private final Poller poller;
  private final Interrupts irqs;
  private final int vector;
  private final boolean intx;
  private final QueuePairOptions options;
  private final long commandTimeoutNanos;
  private final long maxTransferBytes;
  private final Thread owner;
  private final String waitingFor;
  private final CompletionHandler syncHandler = this::syncCompleted;

  private volatile String lost;
  private boolean closed;
  private boolean freed;
  private NvmeCommandException syncError;

  NvmeQueuePair(
      NvmeController controller,
      QueueRing ring,
      DmaHeap heap,
      Poller poller,
      Interrupts irqs,
      int vector,
      QueuePairOptions options,
      long commandTimeoutNanos,
      long maxTransferBytes) {
    this.controller = controller;
    this.ring = ring;
    this.heap = heap;
    this.poller = poller;
    this.irqs = irqs;
    this.vector = vector;
    this.intx = irqs != null && irqs.mode().orElse(null) == InterruptMode.INTX;
    this.options = options;
    this.commandTimeoutNanos = commandTimeoutNanos;
    this.maxTransferBytes = maxTransferBytes;
    this.owner = options.shared() ? null : Thread.currentThread();
    this.waitingFor = "completions on queue " + ring.id;
  }

  /** The queue id (1 and up). */
  public int id() {
    return ring.id;
  }

  /** The options it was created with. */
  public QueuePairOptions options() {
    return options;
  }

  /** The interrupt vector its completion queue signals, or -1 if it is polled. */
  public int vector() {
    return vector;
  }

  /** Commands that may still be submitted before a completion must be reaped. */
  public int freeSlots() {
    return ring.freeSlots();
  }

  /**
   * Commands submitted and not yet reaped, except those given up after a timeout (whose slots stay
   * taken until the controller completes them or is reset).
   */
  public int outstanding() {
    return ring.pending();
  }

  /** Completions that matched no outstanding command (a controller bug); 0 normally. */
  public long spuriousCompletions() {
    return ring.spurious();
  }

  /** The largest transfer of one asynchronous command, in bytes. */
  public long maxTransferBytes() {
    return maxTransferBytes;
  }

  // ---- Synchronous I/O ----

  /**
   * Reads {@code blocks} blocks from {@code slba} into {@code buffer} at {@code offset}; returns
   * when they are there.
   *
   * @throws IllegalArgumentException if the range is outside the namespace, the buffer is too small
   *     or the offset not 4-byte aligned: nothing was sent
   * @throws NvmeCommandException if the controller failed a command
   * @throws NvmeTimeoutException if a command took longer than the command timeout
   */
  public void read(NvmeNamespace ns, long slba, long blocks, DmaBuffer buffer, long offset) {
    checkTransfer(ns, slba, blocks, buffer, offset, false);
    runSync(NvmeOpcodes.IO_READ, ns, slba, blocks, buffer, offset, chunk(ns));
  }

  /** Writes {@code blocks} blocks from {@code buffer} at {@code offset}; see {@link #read}. */
  public void write(NvmeNamespace ns, long slba, long blocks, DmaBuffer buffer, long offset) {
    checkTransfer(ns, slba, blocks, buffer, offset, false);
    runSync(NvmeOpcodes.IO_WRITE, ns, slba, blocks, buffer, offset, chunk(ns));
  }

  /** Makes what was written to {@code ns} durable (Flush). */
  public void flush(NvmeNamespace ns) {
    checkUsable();
    checkNamespace(ns);
    runSync(NvmeOpcodes.IO_FLUSH, ns, 0, 0, null, 0, 0);
  }

  /**
   * Zeroes {@code blocks} blocks from {@code slba} without moving data (Write Zeroes).
   *
   * @throws NotSupportedException if the controller lacks Write Zeroes (ONCS)
   */
  public void writeZeroes(NvmeNamespace ns, long slba, long blocks) {
    checkRange(ns, slba, blocks);
    if (!controller.identify().supportsWriteZeroes()) {
      throw new NotSupportedException(controller.name() + " does not support Write Zeroes (ONCS)");
    }
    runSync(NvmeOpcodes.IO_WRITE_ZEROES, ns, slba, blocks, null, 0, MAX_BLOCKS_PER_COMMAND);
  }

  /**
   * Tells the controller {@code blocks} blocks from {@code slba} are unused (Dataset Management
   * with Attribute Deallocate); they may read back as zeroes afterwards.
   *
   * @throws NotSupportedException if the controller lacks Dataset Management (ONCS)
   */
  public void deallocate(NvmeNamespace ns, long slba, long blocks) {
    checkRange(ns, slba, blocks);
    if (!controller.identify().supportsDatasetManagement()) {
      throw new NotSupportedException(
          controller.name() + " does not support Dataset Management (ONCS)");
    }
    runSync(NvmeOpcodes.IO_DATASET_MANAGEMENT, ns, slba, blocks, null, 0, MAX_DEALLOCATE_BLOCKS);
  }

  private long chunk(NvmeNamespace ns) {
    return Math.min(MAX_BLOCKS_PER_COMMAND, maxTransferBytes >>> ns.blockShift());
  }

  private void runSync(
      int opcode,
      NvmeNamespace ns,
      long slba,
      long blocks,
      DmaBuffer buffer,
      long offset,
      long chunk) {
    if (ring.pending() > 0) {
      throw new IllegalStateException(
          "queue pair "
              + id()
              + " has "
              + ring.pending()
              + " asynchronous commands outstanding; reap them before a synchronous call");
    }
    syncError = null;
    long submitted = 0;
    boolean more = true;
    while (more || ring.pending() > 0) {
      while (more && ring.freeSlots() > 0 && syncError == null) {
        long n = opcode == NvmeOpcodes.IO_FLUSH ? 0 : Math.min(chunk, blocks - submitted);
        submit(opcode, ns, slba + submitted, n, buffer, offset + (submitted << ns.blockShift()), 0);
        submitted += n;
        more = submitted < blocks;
      }
      if (syncError != null) {
        more = false;
      }
      if (ring.pending() > 0) {
        awaitSome(1, commandTimeoutNanos, syncHandler);
      }
    }
    if (syncError != null) {
      NvmeCommandException error = syncError;
      syncError = null;
      throw error;
    }
  }

  private void syncCompleted(long tag, int result, NvmeCommandException error) {
    if (error != null && syncError == null) {
      syncError = error;
    }
  }

  // ---- Asynchronous I/O ----

  /**
   * Submits a read of {@code blocks} blocks (at most {@link #maxTransferBytes()}) from {@code slba}
   * into {@code buffer} at {@code offset}; {@code tag} comes back with its completion. Returns the
   * command id.
   *
   * @throws IllegalStateException if no slot is free ({@link #freeSlots()} is 0): reap first
   * @throws IllegalArgumentException as {@link #read}, or if the transfer is larger than one
   *     command may move
   */
  public int submitRead(
      NvmeNamespace ns, long slba, int blocks, DmaBuffer buffer, long offset, long tag) {
    checkTransfer(ns, slba, blocks, buffer, offset, true);
    return submit(NvmeOpcodes.IO_READ, ns, slba, blocks, buffer, offset, tag);
  }

  /** Submits a write; see {@link #submitRead}. */
  public int submitWrite(
      NvmeNamespace ns, long slba, int blocks, DmaBuffer buffer, long offset, long tag) {
    checkTransfer(ns, slba, blocks, buffer, offset, true);
    return submit(NvmeOpcodes.IO_WRITE, ns, slba, blocks, buffer, offset, tag);
  }

  /** Submits a Flush of {@code ns}; see {@link #submitRead}. */
  public int submitFlush(NvmeNamespace ns, long tag) {
    checkUsable();
    checkNamespace(ns);
    checkSlot();
    return submit(NvmeOpcodes.IO_FLUSH, ns, 0, 0, null, 0, tag);
  }

  /** Hands every completion already posted to {@code handler} without waiting; returns how many. */
  public int reap(CompletionHandler handler) {
    checkUsable();
    return ring.reap(Integer.MAX_VALUE, handler);
  }

  /**
   * Waits until at least {@code count} completions have been handed to {@code handler} (and hands
   * over any more already posted); returns how many were.
   *
   * @throws IllegalArgumentException if fewer than {@code count} commands are outstanding
   * @throws NvmeTimeoutException if they do not come within {@code timeout}, naming the oldest
   *     command still outstanding; the outstanding commands are given up
   */
  public int await(int count, Duration timeout, CompletionHandler handler) {
    return awaitNanos(count, timeout.toNanos(), handler);
  }

  /** {@link #await(int, Duration, CompletionHandler)} with the timeout in nanoseconds. */
  public int awaitNanos(int count, long timeoutNanos, CompletionHandler handler) {
    checkUsable();
    if (count > ring.pending()) {
      throw new IllegalArgumentException(
          "cannot wait for "
              + count
              + " completions on queue pair "
              + id()
              + ": only "
              + ring.pending()
              + " commands are outstanding");
    }
    return awaitSome(count, timeoutNanos, handler);
  }

  private int awaitSome(int count, long timeoutNanos, CompletionHandler handler) {
    int reaped = ring.reap(Integer.MAX_VALUE, handler);
    if (reaped >= count) {
      return reaped;
    }
    long start = poller.clock().nanoTime();
    while (reaped < count) {
      long left = timeoutNanos - (poller.clock().nanoTime() - start);
      if (left <= 0 || !poller.awaitCompletion(ring, left, irqs, vector, intx, waitingFor)) {
        throw timedOut(timeoutNanos);
      }
      reaped += ring.reap(Integer.MAX_VALUE, handler);
    }
    return reaped;
  }

  private NvmeTimeoutException timedOut(long timeoutNanos) {
    int oldest = ring.oldestOutstanding();
    String what = oldest < 0 ? "a command" : ring.describe(oldest);
    int abandoned = 0;
    for (int cid = 0; cid < ring.depth - 1; cid++) {
      if (ring.isOutstanding(cid) && !ring.isAbandoned(cid)) {
        ring.abandon(cid);
        abandoned++;
      }
    }
    return new NvmeTimeoutException(
        what
            + " on queue "
            + id()
            + " of "
            + controller.name()
            + " did not complete within "
            + timeoutNanos / 1_000_000
            + " ms ("
            + abandoned
            + (abandoned == 1 ? " command" : " commands")
            + " given up); reset the controller before freeing buffers it was given");
  }

  private int submit(
      int opcode,
      NvmeNamespace ns,
      long slba,
      long blocks,
      DmaBuffer buffer,
      long offset,
      long tag) {
    int nsid = ns.nsid();
    int cid = ring.acquire(tag, opcode, nsid, slba, (int) blocks, poller.clock().nanoTime());
    long prp1 = 0;
    long prp2 = 0;
    int cdw10 = (int) slba;
    int cdw11 = (int) (slba >>> 32);
    int cdw12 = (int) (blocks - 1) & 0xffff;
    switch (opcode) {
      case NvmeOpcodes.IO_READ, NvmeOpcodes.IO_WRITE -> {
        prp1 = buffer.deviceAddressValue(offset);
        prp2 = ring.mapPrps(cid, buffer, offset, blocks << ns.blockShift(), prp1);
      }
      case NvmeOpcodes.IO_FLUSH -> {
        cdw10 = 0;
        cdw11 = 0;
        cdw12 = 0;
      }
      case NvmeOpcodes.IO_DATASET_MANAGEMENT -> {
        MemorySegment range = ring.rangeList(cid);
        range.set(ValueLayout.JAVA_INT, 0, 0);
        range.set(ValueLayout.JAVA_INT, 4, (int) blocks);
        range.set(ValueLayout.JAVA_LONG, 8, slba);
        prp1 = ring.rangeListAddress(cid);
        cdw10 = 0; // one range
        cdw11 = 1 << 2; // attribute: deallocate
        cdw12 = 0;
      }
      default -> {
        // Write Zeroes: the range alone.
      }
    }
    ring.place(cid, opcode, nsid, prp1, prp2, cdw10, cdw11, cdw12, 0, 0, 0);
    ring.ringSubmission();
    return cid;
  }

  // ---- Checks, all before anything reaches the device ----

  private void checkTransfer(
      NvmeNamespace ns, long slba, long blocks, DmaBuffer buffer, long offset, boolean single) {
    checkRange(ns, slba, blocks);
    long bytes = blocks << ns.blockShift();
    if (buffer == null) {
      throw new NullPointerException("buffer");
    }
    if (offset < 0 || offset > buffer.size() || bytes > buffer.size() - offset) {
      throw new IllegalArgumentException(
          blocks
              + " blocks of "
              + ns.blockSize()
              + " bytes ("
              + bytes
              + " bytes) do not fit in "
              + buffer
              + " at offset "
              + offset);
    }
    if ((buffer.deviceAddressValue(offset) & 3) != 0) {
      throw new IllegalArgumentException(
          "offset " + offset + " of " + buffer + " is not 4-byte aligned, as PRPs must be");
    }
    if (single) {
      if (bytes > maxTransferBytes || blocks > MAX_BLOCKS_PER_COMMAND) {
        throw new IllegalArgumentException(
            bytes
                + " bytes is more than one command moves on "
                + controller.name()
                + " ("
                + maxTransferBytes
                + " bytes); split it, or use read/write, which split");
      }
      checkSlot();
    }
  }

  private void checkRange(NvmeNamespace ns, long slba, long blocks) {
    checkUsable();
    checkNamespace(ns);
    if (blocks < 1) {
      throw new IllegalArgumentException("a transfer moves at least 1 block, not " + blocks);
    }
    if (slba < 0 || slba > ns.blocks() - blocks) {
      throw new IllegalArgumentException(
          "blocks "
              + Long.toUnsignedString(slba)
              + " to "
              + Long.toUnsignedString(slba + blocks - 1)
              + " are outside namespace "
              + ns.nsid()
              + " (blocks 0 to "
              + (ns.blocks() - 1)
              + ")");
    }
  }

  private void checkNamespace(NvmeNamespace ns) {
    if (ns.controller() != controller) {
      throw new IllegalArgumentException(
          ns + " belongs to another controller than queue pair " + id() + "'s");
    }
  }

  private void checkSlot() {
    if (ring.freeSlots() == 0) {
      throw new IllegalStateException(
          "queue pair "
              + id()
              + " is full ("
              + ring.outstanding()
              + " commands outstanding); reap completions first");
    }
  }

  private void checkUsable() {
    if (closed) {
      throw new IllegalStateException("queue pair " + id() + " is closed");
    }
    String why = lost;
    if (why != null) {
      throw new IllegalStateException(
          "queue pair " + id() + " is gone: " + why + "; close it and create another");
    }
    if (owner != null && Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "queue pair "
              + id()
              + " belongs to thread "
              + owner.getName()
              + ", not "
              + Thread.currentThread().getName()
              + "; create one per thread, or create it with"
              + " QueuePairOptions.withSharedMemory() to hand it over");
    }
  }

  // ---- Lifecycle ----

  void lose(String why) {
    lost = why;
  }

  /** Its lane of the controller's history, or null if the controller keeps none. */
  CommandHistory.Lane history() {
    return ring.history;
  }

  /** Frees the memory if this thread may (the controller is closing); else leaves it to close(). */
  void freeIfThisThreadMay() {
    if (owner == null || owner == Thread.currentThread()) {
      free();
    }
  }

  private void free() {
    if (freed) {
      return;
    }
    freed = true;
    try {
      ring.free();
    } finally {
      heap.close();
    }
  }

  /**
   * Deletes the queues on the controller (which aborts anything outstanding) and frees their
   * memory. A queue pair lost to a reset or to the controller's close is only freed. Closing twice
   * does nothing.
   *
   * @throws IllegalStateException if called by another thread than the owner of confined memory
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    if (owner != null && Thread.currentThread() != owner) {
      throw new IllegalStateException(
          "queue pair " + id() + " must be closed by its thread, " + owner.getName());
    }
    closed = true;
    try {
      if (lost == null) {
        controller.deleteQueuePair(this);
      }
    } finally {
      free();
    }
  }

  @Override
  public String toString() {
    return "NvmeQueuePair[qid "
        + id()
        + ", depth "
        + options.depth()
        + (vector >= 0 ? ", vector " + vector : ", polled")
        + ", "
        + ring.outstanding()
        + " outstanding"
        + (closed ? ", closed" : lost != null ? ", lost" : "")
        + "]";
  }
}
