package dev.upcie.sim.model;

/** Work a device scheduled to happen later. */
public interface Scheduled {

  /** Cancels the work if it has not started; true if it will now not run. */
  boolean cancel();
}
