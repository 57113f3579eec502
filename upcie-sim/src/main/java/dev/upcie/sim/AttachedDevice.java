package dev.upcie.sim;

import dev.upcie.pci.PciAddress;
import dev.upcie.sim.iommu.SimIommu;
import dev.upcie.sim.mmio.RegisterFile;
import dev.upcie.sim.model.DeviceDma;
import dev.upcie.sim.model.DeviceModel;
import dev.upcie.sim.model.InterruptSink;
import dev.upcie.sim.model.ModelContext;
import dev.upcie.sim.model.Scheduled;
import dev.upcie.sim.model.Scheduler;
import dev.upcie.sim.model.Timer;
import dev.upcie.sim.sysfs.FunctionHardware;
import dev.upcie.sim.trace.Trace;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.RejectedExecutionException;

/**
 * A device model behind a function of a simulated machine, with what the machine gives it: its
 * configuration space, interrupts, DMA, clock and trace. It outlives the handles drivers open on
 * it, as hardware outlives its drivers.
 */
final class AttachedDevice implements ModelContext {
  private final PciAddress address;
  private final String name;
  private final DeviceModel model;
  private final DeviceConfigSpace config;
  private final DeviceInterrupts interrupts;
  private final SimDeviceDma dma;
  private final Scheduler scheduler;
  private final Trace trace;
  private final ModelScheduler modelScheduler = new ModelScheduler();
  private volatile String fatal;
  private volatile boolean removed;

  AttachedDevice(
      PciAddress address,
      DeviceModel model,
      byte[] configBytes,
      SimIommu iommu,
      Scheduler scheduler,
      Trace trace) {
    this.address = address;
    this.name = model.getClass().getSimpleName() + " at " + address;
    this.model = model;
    this.scheduler = scheduler;
    this.trace = trace;
    long[] barSizes = new long[6];
    for (int i = 0; i < 6; i++) {
      barSizes[i] = model.bar(i).map(RegisterFile::size).orElse(0L);
    }
    this.config = new DeviceConfigSpace("config space of " + address, configBytes, barSizes);
    this.interrupts = new DeviceInterrupts(address.toString(), config, scheduler, trace);
    this.dma = new SimDeviceDma(this, iommu, model.dmaMaskBits());
    for (int i = 0; i < 6; i++) {
      int index = i;
      model.bar(i).ifPresent(bar -> bar.traceTo(trace, "BAR" + index + " of " + address));
    }
    config.onWrite(model::configWritten);
    model.attach(this);
  }

  DeviceModel model() {
    return model;
  }

  String name() {
    return name;
  }

  Optional<RegisterFile> bar(int index) {
    return model.bar(index);
  }

  DeviceInterrupts deviceInterrupts() {
    return interrupts;
  }

  long nanoTime() {
    return scheduler.nanoTime();
  }

  /** Why the model is dead, empty while it lives. */
  Optional<String> fatalReason() {
    return Optional.ofNullable(fatal);
  }

  boolean removed() {
    return removed;
  }

  /** The device as the kernel reaches it through sysfs: {@code config} and {@code reset}. */
  FunctionHardware hardware() {
    return new FunctionHardware() {
      @Override
      public byte[] config() {
        if (removed) {
          // A removed device answers configuration reads with all-ones, as absent hardware does.
          byte[] ones = new byte[config.size()];
          java.util.Arrays.fill(ones, (byte) 0xff);
          return ones;
        }
        return config.bytes();
      }

      @Override
      public void writeConfig(int offset, byte[] bytes) {
        if (removed) {
          return;
        }
        // The kernel's pci_write_config splits a write into naturally aligned accesses.
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int at = 0;
        while (at < bytes.length) {
          int where = offset + at;
          int left = bytes.length - at;
          if ((where & 3) == 0 && left >= 4) {
            config.writeFromKernel(where, 4, in.getInt(at));
            at += 4;
          } else if ((where & 1) == 0 && left >= 2) {
            config.writeFromKernel(where, 2, in.getShort(at) & 0xffff);
            at += 2;
          } else {
            config.writeFromKernel(where, 1, in.get(at) & 0xff);
            at += 1;
          }
        }
      }

      @Override
      public boolean canReset() {
        return model.resettable();
      }

      @Override
      public void reset() {
        if (!removed) {
          model.reset();
          trace.note(name + " was reset through sysfs");
        }
      }
    };
  }

  void remove() {
    removed = true;
    interrupts.disable();
    trace.note(name + " was surprise-removed");
  }

  @Override
  public PciAddress address() {
    return address;
  }

  @Override
  public DeviceDma dma() {
    return dma;
  }

  @Override
  public InterruptSink interrupts() {
    return interrupts;
  }

  @Override
  public Scheduler scheduler() {
    return modelScheduler;
  }

  @Override
  public DeviceConfigSpace config() {
    return config;
  }

  @Override
  public Trace trace() {
    return trace;
  }

  @Override
  public void fatal(String reason) {
    if (fatal == null) {
      fatal = reason;
      trace.note("FATAL " + name + ": " + reason);
    }
  }

  @Override
  public String toString() {
    return name;
  }

  /** The machine's clock as the model sees it: work that throws makes the device fatal. */
  private final class ModelScheduler implements Scheduler {
    @Override
    public long nanoTime() {
      return scheduler.nanoTime();
    }

    @Override
    public Scheduled schedule(Duration delay, String what, Runnable work) {
      try {
        return scheduler.schedule(delay, what, guarded(what, work));
      } catch (RejectedExecutionException e) {
        // The machine is closed: nothing runs any more.
        return () -> false;
      }
    }

    @Override
    public Timer timer(String what, Runnable work) {
      Timer timer = scheduler.timer(what, guarded(what, work));
      return new Timer() {
        @Override
        public void arm(Duration delay) {
          try {
            timer.arm(delay);
          } catch (RejectedExecutionException e) {
            // The machine is closed: nothing runs any more.
          }
        }

        @Override
        public boolean cancel() {
          return timer.cancel();
        }
      };
    }

    /** The work, skipped once the device is dead or gone; if it throws, the device dies. */
    private Runnable guarded(String what, Runnable work) {
      return () -> {
        if (fatal != null || removed) {
          return;
        }
        try {
          work.run();
        } catch (RuntimeException | Error e) {
          fatal(what + " threw " + e);
        }
      };
    }
  }
}
