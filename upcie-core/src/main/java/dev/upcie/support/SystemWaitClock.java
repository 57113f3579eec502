package dev.upcie.support;

import java.util.concurrent.locks.LockSupport;

/** {@link WaitClock#system()}: the monotonic clock, pausing by spinning or parking. */
enum SystemWaitClock implements WaitClock {
  INSTANCE;

  @Override
  public long nanoTime() {
    return System.nanoTime();
  }

  @Override
  public void pause(long nanos) {
    if (nanos <= 0) {
      Thread.onSpinWait();
    } else {
      LockSupport.parkNanos(nanos);
    }
  }
}
