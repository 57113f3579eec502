package dev.upcie.bench;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.PciAddress;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.edu.EduRegisters;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * An {@code edu} DMA round trip on the simulator, as a driver test makes it: the driver writes a
 * buffer, has edu copy it from RAM into its device buffer and back out to a second buffer, and
 * waits for each transfer's MSI. The machine runs in virtual time, so each wait moves the clock
 * over edu's 100 ms instead of sleeping: this measures the simulator's own cost of a transfer
 * (register writes, the clock, the IOMMU copy, the interrupt), not QEMU's timing.
 *
 * <p>Run with {@code -prof gc}: bytes per operation are what the simulator allocates per round trip
 * (two transfers); the driver side here allocates nothing.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class EduDmaBenchmark {
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");
  private static final long TIMEOUT = TimeUnit.SECONDS.toNanos(1);
  private static final long TO_DEVICE =
      EduRegisters.DMA_RUN.mask() | EduRegisters.DMA_INTERRUPT_ON_DONE.mask();
  private static final long TO_HOST = TO_DEVICE | EduRegisters.DMA_TO_HOST.mask();

  /** Bytes per transfer: a small command, and the longest transfer QEMU's edu accepts. */
  @Param({"64", "4095"})
  int size;

  private SimMachine machine;
  private SimPciDeviceHandle edu;
  private Mmio bar0;
  private Interrupts irqs;
  private DmaHeap heap;
  private DmaBuffer source;
  private DmaBuffer destination;
  private MemorySegment out;
  private MemorySegment in;
  private long sourceAddress;
  private long destinationAddress;
  private long sequence;

  /** One machine, edu open with MSI and bus mastering, two 4 KiB buffers below its 28-bit mask. */
  @Setup(Level.Trial)
  public void open() {
    machine = SimMachine.qemuQ35Builder("vfio-pci", "vfio-pci").virtualTime().build();
    edu = machine.open(EDU);
    edu.config().enableBusMaster();
    irqs = edu.interrupts();
    irqs.enable(InterruptMode.MSI, 1);
    bar0 = edu.bar(0);
    heap = edu.dma().withMask(EduRegisters.DMA_MASK_BITS).heap(8192);
    source = heap.allocate(4096, 4096, DmaBuffer.Scope.SHARED);
    destination = heap.allocate(4096, 4096, DmaBuffer.Scope.SHARED);
    out = source.segment();
    in = destination.segment();
    sourceAddress = source.deviceAddressValue(0);
    destinationAddress = destination.deviceAddressValue(0);
  }

  /** Frees the buffers and the heap, closes edu and the machine. */
  @TearDown(Level.Trial)
  public void close() {
    destination.close();
    source.close();
    heap.close();
    edu.close();
    machine.close();
  }

  /** RAM to edu's buffer, edu's buffer to RAM, each waited for; returns what came back. */
  @Benchmark
  public long roundTrip() {
    long value = ++sequence;
    out.set(ValueLayout.JAVA_LONG, 0, value);
    transfer(sourceAddress, EduRegisters.BUFFER, TO_DEVICE);
    transfer(EduRegisters.BUFFER, destinationAddress, TO_HOST);
    long back = in.get(ValueLayout.JAVA_LONG, 0);
    if (back != value) {
      throw new IllegalStateException("the round trip returned " + back + ", not " + value);
    }
    return back;
  }

  private void transfer(long from, long to, long command) {
    bar0.putLongVolatile(EduRegisters.DMA_SOURCE.offset(), from);
    bar0.putLongVolatile(EduRegisters.DMA_DESTINATION.offset(), to);
    bar0.putLongVolatile(EduRegisters.DMA_COUNT.offset(), size);
    bar0.putLongVolatile(EduRegisters.DMA_COMMAND.offset(), command);
    if (irqs.await(0, TIMEOUT) == 0) {
      throw new IllegalStateException("edu signalled no transfer within 1 s of virtual time");
    }
    bar0.putIntVolatile(EduRegisters.INTERRUPT_ACK.offset(), EduRegisters.DMA_INTERRUPT);
  }
}
