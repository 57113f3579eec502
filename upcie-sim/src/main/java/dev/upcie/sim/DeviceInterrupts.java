package dev.upcie.sim;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.pci.PciConfigRegisters;
import dev.upcie.sim.model.InterruptSink;
import dev.upcie.sim.model.Scheduler;
import dev.upcie.sim.model.VirtualTime;
import dev.upcie.sim.trace.Trace;
import dev.upcie.sim.trace.TraceEvent;
import java.util.Optional;

/**
 * A simulated function's interrupts, both sides: the model signals through {@link InterruptSink},
 * the driver enables, waits and unmasks through {@link Interrupts}, with vfio-pci's semantics. MSI
 * and MSI-X are edge messages, lost unless the mode is enabled and bus mastering is on; INTx is a
 * level, delivered once and masked until the driver unmasks it, and delivered again then if the
 * device still holds it.
 *
 * <p>Waiting allocates nothing. On a machine with {@link VirtualTime} a waiting driver moves the
 * clock to the next scheduled device work, up to its timeout, instead of sleeping.
 */
final class DeviceInterrupts implements Interrupts, InterruptSink {
  private final String name;
  private final DeviceConfigSpace config;
  private final Scheduler scheduler;
  private final Trace trace;
  private final long[] pending;
  private InterruptMode mode;
  private int enabled;
  private boolean intxLevel;
  private boolean intxMasked;
  // Bumped by disable(), so a waiter notices that its vectors went away while it slept.
  private long generation;

  DeviceInterrupts(String name, DeviceConfigSpace config, Scheduler scheduler, Trace trace) {
    this.name = name;
    this.config = config;
    this.scheduler = scheduler;
    this.trace = trace;
    this.pending = new long[Math.max(1, Math.max(vectors(InterruptMode.MSIX), 32))];
  }

  // ---- the driver's side

  @Override
  public int vectors(InterruptMode mode) {
    return switch (mode) {
      case INTX -> config.read8((int) PciConfigRegisters.INTERRUPT_PIN.offset()) != 0 ? 1 : 0;
      case MSI ->
          config.msiOffset() == 0 ? 0 : 1 << ((config.read16(config.msiOffset() + 2) >> 1) & 7);
      case MSIX ->
          config.msixOffset() == 0 ? 0 : (config.read16(config.msixOffset() + 2) & 0x7ff) + 1;
    };
  }

  @Override
  public void enable(InterruptMode mode, int count) {
    Interrupts.checkRequest(name, this, mode, count);
    disable();
    synchronized (this) {
      this.mode = mode;
      this.enabled = count;
      java.util.Arrays.fill(pending, 0);
      switch (mode) {
        case MSI -> {
          int control = config.read16(config.msiOffset() + 2);
          int log2 = 32 - Integer.numberOfLeadingZeros(count - 1);
          config.store16(config.msiOffset() + 2, (control & ~0x71) | (log2 << 4) | 1);
        }
        case MSIX -> {
          int control = config.read16(config.msixOffset() + 2);
          config.store16(config.msixOffset() + 2, control | 0x8000);
        }
        case INTX -> {
          intxMasked = false;
          fireIntx();
        }
      }
    }
  }

  @Override
  public synchronized Optional<InterruptMode> mode() {
    return Optional.ofNullable(mode);
  }

  @Override
  public synchronized int enabledVectors() {
    return enabled;
  }

  @Override
  public long await(int vector, long timeoutNanos) {
    long generationAtStart = check(vector);
    if (scheduler instanceof VirtualTime time) {
      return awaitVirtually(time, vector, generationAtStart, timeoutNanos);
    }
    long start = System.nanoTime();
    long timeout = Math.max(0, timeoutNanos);
    synchronized (this) {
      while (true) {
        checkStill(vector, generationAtStart);
        if (pending[vector] > 0) {
          return take(vector);
        }
        // Elapsed time, not a deadline: start + timeout would wrap for Long.MAX_VALUE.
        long left = timeout - (System.nanoTime() - start);
        if (left <= 0) {
          return 0;
        }
        try {
          wait(left / 1_000_000, (int) (left % 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return 0;
        }
      }
    }
  }

  private long awaitVirtually(VirtualTime time, int vector, long generationAtStart, long timeout) {
    long now = time.nanoTime();
    long deadline = now + Math.max(0, timeout);
    if (deadline < now) {
      deadline = Long.MAX_VALUE;
    }
    while (true) {
      synchronized (this) {
        checkStill(vector, generationAtStart);
        if (pending[vector] > 0) {
          return take(vector);
        }
      }
      long next = time.nextDueNanos();
      if (next > deadline || next == Long.MAX_VALUE) {
        // Nothing left that could raise it in time: the wait times out, having let time pass.
        if (deadline != Long.MAX_VALUE) {
          time.advanceTo(deadline);
        }
        synchronized (this) {
          checkStill(vector, generationAtStart);
          return pending[vector] > 0 ? take(vector) : 0;
        }
      }
      time.advanceTo(next);
    }
  }

  @Override
  public synchronized long drain(int vector) {
    check(vector);
    return take(vector);
  }

  @Override
  public synchronized void unmask(int vector) {
    check(vector);
    if (mode == InterruptMode.INTX) {
      intxMasked = false;
      fireIntx();
    }
  }

  @Override
  public void disable() {
    synchronized (this) {
      if (mode == InterruptMode.MSI) {
        int control = config.read16(config.msiOffset() + 2);
        config.store16(config.msiOffset() + 2, control & ~0x71);
      } else if (mode == InterruptMode.MSIX) {
        int control = config.read16(config.msixOffset() + 2);
        config.store16(config.msixOffset() + 2, control & ~0x8000);
      }
      mode = null;
      enabled = 0;
      generation++;
      notifyAll();
    }
  }

  private long take(int vector) {
    long fired = pending[vector];
    pending[vector] = 0;
    return fired;
  }

  private synchronized long check(int vector) {
    Interrupts.checkVector(name, mode == null ? 0 : enabled, vector);
    return generation;
  }

  private void checkStill(int vector, long generationAtStart) {
    if (generation != generationAtStart || mode == null || vector >= enabled) {
      throw new IllegalStateException(
          "interrupts of " + name + " were disabled (or the device closed) while in use");
    }
  }

  // ---- the device's side

  @Override
  public boolean msiEnabled() {
    return config.msiOffset() != 0 && (config.read16(config.msiOffset() + 2) & 1) != 0;
  }

  @Override
  public boolean msixEnabled() {
    return config.msixOffset() != 0 && (config.read16(config.msixOffset() + 2) & 0x8000) != 0;
  }

  @Override
  public void msi(int vector) {
    message(InterruptMode.MSI, vector);
  }

  @Override
  public void msix(int vector) {
    message(InterruptMode.MSIX, vector);
  }

  private synchronized void message(InterruptMode kind, int vector) {
    // A message is a memory write by the device: it needs bus mastering.
    if (mode == kind && vector >= 0 && vector < enabled && config.isBusMaster()) {
      deliver(vector);
    } else {
      trace.record(TraceEvent.Kind.INTERRUPT_LOST, name, 0, vector, 0);
    }
  }

  @Override
  public synchronized void intx(boolean asserted) {
    intxLevel = asserted;
    if (asserted) {
      fireIntx();
    }
  }

  /** Delivers INTx if the line is up, enabled and unmasked; the kernel masks it as it fires. */
  private void fireIntx() {
    if (!intxLevel) {
      return;
    }
    boolean disabled =
        PciConfigRegisters.COMMAND_INTX_DISABLE.isSet(
            config.read16((int) PciConfigRegisters.COMMAND.offset()));
    if (mode == InterruptMode.INTX && !intxMasked && !disabled) {
      intxMasked = true;
      deliver(0);
    } else if (mode != InterruptMode.INTX) {
      trace.record(TraceEvent.Kind.INTERRUPT_LOST, name, 0, 0, 0);
    }
  }

  private void deliver(int vector) {
    pending[vector]++;
    trace.record(TraceEvent.Kind.INTERRUPT, name, 0, vector, 0);
    notifyAll();
  }

  @Override
  public String toString() {
    return "Interrupts[" + name + ", simulated]";
  }
}
