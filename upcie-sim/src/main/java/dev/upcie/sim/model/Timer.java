package dev.upcie.sim.model;

import java.time.Duration;

/**
 * Work a device runs again and again, made once and armed each time, as QEMU's {@code timer_mod}
 * re-arms a timer: a model's command path allocates nothing. Thread-safe.
 *
 * <pre>{@code
 * transferDone = context.scheduler().timer("edu DMA transfer", this::transfer);  // on attach
 * transferDone.arm(TRANSFER_TIME);                                               // per command
 * }</pre>
 */
public interface Timer {

  /** Runs the work once {@code delay} has passed; if it was armed and has not run, it moves. */
  void arm(Duration delay);

  /** Disarms it if it has not started; true if it will now not run. */
  boolean cancel();
}
