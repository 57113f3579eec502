package dev.upcie.nvme.driver;

import dev.upcie.interrupt.Interrupts;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.support.WaitClock;

/**
 * Waits for a completion queue: spins briefly (a completion usually comes within microseconds),
 * then pauses between polls, or sleeps on the queue's interrupt. While it waits longer than the
 * spin it also reads CSTS, so a controller that died is reported as such instead of as a timeout.
 */
final class Poller {
  /**
   * How long to spin before pausing (a NAND read takes about 80 µs, QEMU under TCG often more), and
   * how often the clock is read while spinning.
   */
  private static final long SPIN_NANOS = 1_000_000;

  private static final int SPINS_PER_CLOCK_READ = 32;

  /** A bound on spinning by count, for clocks that stand still while the thread spins. */
  private static final int MAX_SPINS = 1 << 20;

  private static final long PAUSE_NANOS = 50_000;
  private static final long INTERRUPT_SLICE_NANOS = 10_000_000;

  private final WaitClock clock;
  private final Mmio bar0;
  private final String device;

  Poller(WaitClock clock, Mmio bar0, String device) {
    this.clock = clock;
    this.bar0 = bar0;
    this.device = device;
  }

  WaitClock clock() {
    return clock;
  }

  /**
   * Waits until a completion is at {@code ring}'s head, polling, or on {@code vector} of {@code
   * irqs} if it is not null (an INTx line if {@code intx}); false if {@code timeoutNanos} passed
   * first.
   *
   * @throws NvmeControllerFatalException if the controller reports a fatal status while waiting
   */
  boolean awaitCompletion(
      QueueRing ring,
      long timeoutNanos,
      Interrupts irqs,
      int vector,
      boolean intx,
      String waitingFor) {
    if (ring.completionReady()) {
      return true;
    }
    long start = clock.nanoTime();
    int spins = 0;
    while (spins < MAX_SPINS) {
      if (ring.completionReady()) {
        return true;
      }
      // No Thread.onSpinWait() here: under QEMU's TCG each PAUSE leaves the translated code and
      // takes QEMU's big lock, which the emulated controller needs to complete the command (and
      // under KVM, PAUSE-loop exiting traps the vCPU). A poll-mode driver reads memory, as SPDK's.
      if (++spins % SPINS_PER_CLOCK_READ == 0 && clock.nanoTime() - start > SPIN_NANOS) {
        break;
      }
    }
    while (true) {
      if (ring.completionReady()) {
        return true;
      }
      checkAlive(waitingFor);
      long left = timeoutNanos - (clock.nanoTime() - start);
      if (left <= 0) {
        return ring.completionReady();
      }
      if (irqs == null) {
        clock.pause(Math.min(PAUSE_NANOS, left));
      } else {
        if (intx) {
          // The line may have been masked by a completion the queue has since consumed.
          irqs.unmask(vector);
        }
        irqs.await(vector, Math.min(INTERRUPT_SLICE_NANOS, left));
      }
    }
  }

  /**
   * Throws if CSTS says the controller is dead: fatal status set, or all ones (the function is gone
   * or was reset under the driver).
   */
  void checkAlive(String waitingFor) {
    int csts = bar0.getIntVolatile(NvmeRegisters.CSTS.offset());
    if (csts == -1) {
      throw new NvmeControllerFatalException(
          device
              + " stopped answering (CSTS reads 0xffffffff) while waiting for "
              + waitingFor
              + ": the function was removed or reset under the driver; reopen it");
    }
    if (NvmeRegisters.CSTS_CFS.isSet(Integer.toUnsignedLong(csts))) {
      throw new NvmeControllerFatalException(
          device
              + " reported Controller Fatal Status (CSTS.CFS) while waiting for "
              + waitingFor
              + String.format(" (CSTS 0x%08x)", csts)
              + "; it processes no more commands until reset: call NvmeController.reset()");
    }
  }

  /**
   * Polls {@code bar0}'s CSTS until {@code ready} matches RDY or the timeout passes.
   *
   * @throws NvmeTimeoutException naming {@code what} if it does not
   * @throws NvmeControllerFatalException if CSTS.CFS is set while waiting for ready
   */
  void awaitReady(boolean ready, long timeoutNanos, String what) {
    long start = clock.nanoTime();
    while (true) {
      int csts = bar0.getIntVolatile(NvmeRegisters.CSTS.offset());
      if (csts != -1 && NvmeRegisters.CSTS_RDY.isSet(Integer.toUnsignedLong(csts)) == ready) {
        return;
      }
      if (ready) {
        checkAlive(what);
      }
      if (clock.nanoTime() - start >= timeoutNanos) {
        throw new NvmeTimeoutException(
            device
                + ": "
                + what
                + " did not happen within "
                + timeoutNanos / 1_000_000
                + " ms"
                + String.format(" (CSTS 0x%08x)", csts)
                + (ready
                    ? "; the controller never became ready: check CC and the admin queue"
                        + " addresses, or reset the function"
                    : "; the controller may be wedged: reset the function (PciDeviceHandle.reset())"));
      }
      clock.pause(1_000_000);
    }
  }

  /** Polls CSTS.SHST until shutdown processing is complete; false if it does not in time. */
  boolean awaitShutdown(long timeoutNanos) {
    long start = clock.nanoTime();
    while (true) {
      int csts = bar0.getIntVolatile(NvmeRegisters.CSTS.offset());
      if (csts == -1) {
        return false;
      }
      if (NvmeRegisters.CSTS_SHST.get(Integer.toUnsignedLong(csts)) == 2) {
        return true;
      }
      if (clock.nanoTime() - start >= timeoutNanos) {
        return false;
      }
      clock.pause(1_000_000);
    }
  }
}
