package dev.upcie.sim.model;

import java.time.Duration;

/**
 * A simulated machine's clock, and where device models put work that completes later (a DMA
 * transfer after 100 ms, a controller ready after its enable delay).
 *
 * <p>Two kinds: {@link VirtualTime}, where time moves only when a test moves it (or a driver waits
 * for an interrupt), so a run is the same every time; and real time, where one thread per machine
 * runs the work when it is due, as a device would.
 */
public interface Scheduler {

  /** Nanoseconds since the machine started, on this clock. */
  long nanoTime();

  /**
   * Runs {@code work} once {@code delay} has passed on this clock. Work that throws makes its
   * device fatal (see {@link ModelContext#fatal}).
   *
   * @param what what the work is, for the trace and for errors
   */
  Scheduled schedule(Duration delay, String what, Runnable work);

  /**
   * A timer that runs {@code work} each time it is armed and its delay has passed: for work a
   * device repeats, so the path that arms it allocates nothing (in virtual time). Work that throws
   * makes its device fatal, as with {@link #schedule}.
   *
   * @param what what the work is, for the trace and for errors
   */
  Timer timer(String what, Runnable work);
}
