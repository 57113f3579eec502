package dev.upcie.sim.model;

import dev.upcie.support.WaitClock;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.PriorityQueue;

/**
 * A clock that moves only when told: work scheduled for later runs, in time order, on the thread
 * that advances the clock. A test that uses it gets the same interleaving on every run, and never
 * waits for a device in real time.
 *
 * <p>Besides {@link #advance}, a driver that waits for an interrupt on a machine with virtual time
 * moves the clock to the next scheduled work (up to the wait's timeout), as a waiting CPU lets a
 * device's time pass; polling a register does not.
 *
 * <pre>{@code
 * SimMachine machine = SimMachine.builder()...virtualTime().build();
 * bar0.write(EduRegisters.DMA_COMMAND, EduRegisters.DMA_RUN.mask());
 * machine.virtualTime().advance(Duration.ofMillis(99));   // still running
 * machine.virtualTime().advance(Duration.ofMillis(1));    // done
 * }</pre>
 */
public final class VirtualTime implements Scheduler {
  private final PriorityQueue<Task> queue = new PriorityQueue<>();
  private long now;
  private long sequence;

  /** A clock at 0 with nothing scheduled. */
  public VirtualTime() {}

  @Override
  public synchronized long nanoTime() {
    return now;
  }

  @Override
  public Scheduled schedule(Duration delay, String what, Runnable work) {
    Task task = new Task(what, work);
    task.arm(delay);
    return task;
  }

  @Override
  public Timer timer(String what, Runnable work) {
    return new Task(what, work);
  }

  /** How much work is scheduled and not yet run. */
  /**
   * This time as a driver's {@link WaitClock}: a driver polling a device pauses by advancing it, so
   * whatever the device scheduled (a delayed completion, readiness) happens, and a timeout of
   * seconds passes in as many polls as it takes instead of in seconds.
   */
  public WaitClock waitClock() {
    return new WaitClock() {
      @Override
      public long nanoTime() {
        return VirtualTime.this.nanoTime();
      }

      @Override
      public void pause(long nanos) {
        advance(Duration.ofNanos(Math.max(nanos, 1_000)));
      }

      @Override
      public String toString() {
        return "WaitClock[" + VirtualTime.this + "]";
      }
    };
  }

  public synchronized int pending() {
    return queue.size();
  }

  /** When the next scheduled work is due, empty if there is none. */
  public synchronized OptionalLong nextDue() {
    Task next = queue.peek();
    return next == null ? OptionalLong.empty() : OptionalLong.of(next.due);
  }

  /** {@link #nextDue()} without the box: {@link Long#MAX_VALUE} if nothing is scheduled. */
  public synchronized long nextDueNanos() {
    Task next = queue.peek();
    return next == null ? Long.MAX_VALUE : next.due;
  }

  /**
   * Moves the clock forward by {@code duration}, running the work that falls due on the way, each
   * at its own time. {@link Duration#ZERO} runs what is due now.
   */
  public void advance(Duration duration) {
    long target;
    synchronized (this) {
      target = later(now, duration);
    }
    advanceTo(target);
  }

  /** {@code now + delay}, held at {@link Long#MAX_VALUE} rather than wrapping round. */
  static long later(long now, Duration delay) {
    long nanos;
    try {
      nanos = Math.max(0, delay.toNanos());
    } catch (ArithmeticException e) {
      nanos = delay.isNegative() ? 0 : Long.MAX_VALUE;
    }
    long due = now + nanos;
    return due < now ? Long.MAX_VALUE : due;
  }

  /**
   * Moves the clock to the next scheduled work and runs it (and whatever else is due then).
   *
   * @return false if nothing was scheduled (the clock did not move)
   */
  public boolean advanceToNext() {
    OptionalLong next = nextDue();
    if (next.isEmpty()) {
      return false;
    }
    advanceTo(next.getAsLong());
    return true;
  }

  /** Moves the clock to {@code nanos} (never backwards), running what falls due on the way. */
  public void advanceTo(long nanos) {
    while (true) {
      Task task;
      synchronized (this) {
        Task next = queue.peek();
        if (next == null || next.due > nanos) {
          now = Math.max(now, nanos);
          return;
        }
        queue.poll();
        now = Math.max(now, next.due);
        task = next;
      }
      // Outside the lock: the work may schedule more, or be waited on by another thread.
      task.run();
    }
  }

  @Override
  public synchronized String toString() {
    return "VirtualTime[" + now + " ns, " + queue.size() + " pending]";
  }

  /** Scheduled work; re-armed in place when it is a {@link Timer}. */
  private final class Task implements Scheduled, Timer, Comparable<Task> {
    private final String what;
    private final Runnable work;
    // Guarded by VirtualTime.this; changed only while the task is out of the queue.
    private long due;
    private long order;

    Task(String what, Runnable work) {
      this.what = what;
      this.work = Objects.requireNonNull(work, "work");
    }

    void run() {
      work.run();
    }

    @Override
    public void arm(Duration delay) {
      synchronized (VirtualTime.this) {
        queue.remove(this);
        due = later(now, delay);
        order = sequence++;
        queue.add(this);
      }
    }

    @Override
    public boolean cancel() {
      synchronized (VirtualTime.this) {
        return queue.remove(this);
      }
    }

    @Override
    public int compareTo(Task other) {
      int byTime = Long.compare(due, other.due);
      return byTime != 0 ? byTime : Long.compare(order, other.order);
    }

    @Override
    public String toString() {
      return what + " at " + due + " ns";
    }
  }
}
