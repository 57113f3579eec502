package dev.upcie.kernel;

import dev.upcie.interrupt.Interrupts;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Enabled interrupt vectors, one readable descriptor each, and the waiting on them that the real
 * backends share: {@code ppoll} for readability, then a read of the count. Nothing allocates on the
 * waiting path: each vector has its call structures from the start.
 *
 * <p>Closing wakes every waiter (through a wake eventfd polled beside each vector), which then
 * throws {@link IllegalStateException}; so {@code disable()} or a device's {@code close()} from
 * another thread never leaves a waiter asleep until its timeout. The call structures are left to
 * the garbage collector ({@code Arena.ofAuto()}): a waiter may still be inside {@code ppoll} with
 * them when the vectors close.
 */
public final class InterruptVectors implements AutoCloseable {

  /** What a descriptor's read returns. */
  public enum Counter {
    /** An eventfd: an 8-byte count of signals since the last read, reset by the read. */
    EVENTFD,
    /** {@code /dev/uioN}: a 4-byte running total of interrupts since the device was probed. */
    UIO
  }

  private final String name;
  private final NativeFd[] fds;
  private final boolean ownsFds;
  private final Counter counter;
  private final NativeFd wake;
  private final MemorySegment[] pollfds;
  private final MemorySegment[] timespecs;
  private final MemorySegment[] buffers;
  private final long[] totals;
  private volatile boolean closed;

  /**
   * Vectors over {@code fds}, which this object closes.
   *
   * @param name the device, for messages
   */
  public InterruptVectors(String name, NativeFd[] fds, Counter counter) {
    this(name, fds, true, counter, new long[fds.length]);
  }

  /**
   * Vectors over descriptors someone else owns and closes, with the running totals they start from
   * ({@link Counter#UIO}).
   */
  public InterruptVectors(String name, NativeFd[] fds, Counter counter, long[] totals) {
    this(name, fds, false, counter, totals.clone());
  }

  private InterruptVectors(
      String name, NativeFd[] fds, boolean ownsFds, Counter counter, long[] totals) {
    this.name = name;
    this.fds = fds.clone();
    this.ownsFds = ownsFds;
    this.counter = counter;
    this.totals = totals;
    this.wake = Syscalls.eventfd(Posix.EFD_NONBLOCK);
    Arena arena = Arena.ofAuto();
    this.pollfds = new MemorySegment[fds.length];
    this.timespecs = new MemorySegment[fds.length];
    this.buffers = new MemorySegment[fds.length];
    for (int i = 0; i < fds.length; i++) {
      pollfds[i] = arena.allocate(Syscalls.POLLFDS_BYTES, 8);
      timespecs[i] = arena.allocate(Syscalls.TIMESPEC_BYTES, 8);
      buffers[i] = arena.allocate(counter == Counter.EVENTFD ? 8 : 4, 8);
    }
  }

  /** How many vectors are enabled. */
  public int count() {
    return fds.length;
  }

  /**
   * Waits for {@code vector}; the count of signals since last asked, or 0 on timeout.
   *
   * @throws IllegalStateException if the vectors are closed, before or during the wait
   */
  public long await(int vector, long timeoutNanos) {
    checkOpen();
    int ready =
        Syscalls.pollReadable(fds[vector], wake, pollfds[vector], timespecs[vector], timeoutNanos);
    checkOpen();
    return ready == Syscalls.READABLE ? drain(vector) : 0;
  }

  /** The count of signals since last asked, without waiting. */
  public long drain(int vector) {
    checkOpen();
    if (Syscalls.tryRead(fds[vector], buffers[vector]) < 0) {
      return 0;
    }
    if (counter == Counter.EVENTFD) {
      return buffers[vector].get(ValueLayout.JAVA_LONG, 0);
    }
    long total = Integer.toUnsignedLong(buffers[vector].get(ValueLayout.JAVA_INT, 0));
    long fired = (total - totals[vector]) & 0xffff_ffffL;
    totals[vector] = total;
    return fired;
  }

  /** Wakes every waiter, and closes the descriptors this object owns. Later calls do nothing. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try (Arena arena = Arena.ofConfined()) {
      Syscalls.write(wake, arena.allocateFrom(ValueLayout.JAVA_LONG, 1L));
    } finally {
      // A waiter still in ppoll keeps its descriptors open until it returns (NativeFd).
      wake.close();
      if (ownsFds) {
        for (NativeFd fd : fds) {
          fd.close();
        }
      }
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException(
          "interrupts of " + name + " were disabled (or the device closed) while in use");
    }
  }

  /**
   * The enabled vectors, checked: they exist and {@code vector} is one of them.
   *
   * @throws IllegalStateException if interrupts are not enabled
   * @throws IndexOutOfBoundsException if {@code vector} is not enabled
   */
  public static InterruptVectors require(InterruptVectors vectors, String name, int vector) {
    Interrupts.checkVector(name, vectors == null ? 0 : vectors.fds.length, vector);
    return vectors;
  }
}
