package dev.upcie.support;

/**
 * The time a driver waits by: where it reads the time and how it pauses while polling a device.
 *
 * <p>{@link #system()} is the machine's monotonic clock, and a pause parks the thread. A simulated
 * machine on virtual time offers one whose pause advances its virtual time instead, so a test of a
 * controller that never becomes ready fails its 7.5-second timeout in microseconds:
 *
 * <pre>{@code
 * SimMachine machine = SimMachine.builder().virtualTime()...build();
 * NvmeControllerOptions options =
 *     NvmeControllerOptions.builder().clock(machine.virtualTime().waitClock()).build();
 * }</pre>
 */
public interface WaitClock {

  /** Now, in nanoseconds from an arbitrary origin, never going backwards. */
  long nanoTime();

  /** Lets about {@code nanos} pass (at least a little, even for 0) before the next poll. */
  void pause(long nanos);

  /** The machine's clock: {@link System#nanoTime()}, pausing by parking the thread. */
  static WaitClock system() {
    return SystemWaitClock.INSTANCE;
  }
}
