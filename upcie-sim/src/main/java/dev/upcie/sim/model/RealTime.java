package dev.upcie.sim.model;

import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Real time: one daemon thread per machine runs device work when it is due, as a device works
 * beside the CPU. Delays are the models' own (QEMU's {@code edu} finishes a transfer 100 ms after
 * the command), so a driver meets the same timing as on QEMU.
 */
public final class RealTime implements Scheduler, AutoCloseable {
  private final long start = System.nanoTime();
  private final ScheduledThreadPoolExecutor executor;

  /** A clock starting now, with its thread named after {@code machine}. */
  public RealTime(String machine) {
    this.executor =
        new ScheduledThreadPoolExecutor(
            1,
            work -> {
              Thread thread = new Thread(work, "upcie-sim device time of " + machine);
              thread.setDaemon(true);
              return thread;
            });
    executor.setRemoveOnCancelPolicy(true);
  }

  @Override
  public long nanoTime() {
    return System.nanoTime() - start;
  }

  @Override
  public Scheduled schedule(Duration delay, String what, Runnable work) {
    ScheduledFuture<?> future =
        executor.schedule(work, VirtualTime.later(0, delay), TimeUnit.NANOSECONDS);
    return () -> future.cancel(false);
  }

  @Override
  public Timer timer(String what, Runnable work) {
    return new Timer() {
      private ScheduledFuture<?> next;

      @Override
      public synchronized void arm(Duration delay) {
        if (next != null) {
          next.cancel(false);
        }
        next = executor.schedule(work, VirtualTime.later(0, delay), TimeUnit.NANOSECONDS);
      }

      @Override
      public synchronized boolean cancel() {
        return next != null && next.cancel(false);
      }

      @Override
      public String toString() {
        return what;
      }
    };
  }

  /** Stops the thread; work not yet run is dropped. */
  @Override
  public void close() {
    executor.shutdownNow();
  }

  @Override
  public String toString() {
    return "RealTime[" + nanoTime() + " ns]";
  }
}
