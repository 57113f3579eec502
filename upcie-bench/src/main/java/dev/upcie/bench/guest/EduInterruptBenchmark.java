package dev.upcie.bench.guest;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.edu.EduRegisters;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One interrupt round trip in the QEMU guest: the benchmark has {@code edu} raise an interrupt (a
 * write to its raise register), waits for it through {@link Interrupts#await}, acknowledges it at
 * the device and unmasks the vector. MSI through VFIO, INTx through UIO (whose unmasking is a
 * config-space write). Under TCG: the figures are the guest's, not hardware's.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class EduInterruptBenchmark {
  private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(5);

  private PciDeviceHandle edu;
  private Interrupts irqs;
  private Mmio bar0;

  /** Opens edu and enables its best interrupt mode, one vector. */
  @Setup(Level.Trial)
  public void open() {
    edu = GuestDevice.openEdu();
    edu.config().enableBusMaster();
    irqs = edu.interrupts();
    InterruptMode mode = irqs.modes().get(0);
    irqs.enable(mode, 1);
    bar0 = edu.bar(0);
  }

  /** Disables the interrupts and closes the device. */
  @TearDown(Level.Trial)
  public void close() {
    irqs.disable();
    edu.close();
  }

  /** Raise, await, acknowledge, unmask. */
  @Benchmark
  public long roundTrip() {
    bar0.putIntRelease(EduRegisters.INTERRUPT_RAISE.offset(), 1);
    long fired = irqs.await(0, TIMEOUT);
    if (fired == 0) {
      throw new IllegalStateException("edu raised no interrupt within 5 s");
    }
    bar0.putIntRelease(EduRegisters.INTERRUPT_ACK.offset(), 1);
    irqs.unmask(0);
    return fired;
  }
}
