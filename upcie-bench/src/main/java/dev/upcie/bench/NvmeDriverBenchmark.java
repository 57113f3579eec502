package dev.upcie.bench;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.driver.CompletionHandler;
import dev.upcie.nvme.driver.NvmeCommandException;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.QueuePairOptions;
import dev.upcie.pci.PciAddress;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.nvme.NamespaceOptions;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.nvme.NvmeOptions;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * 4 KiB random reads and writes through the reference NVMe driver ({@link NvmeQueuePair}) against
 * the simulated controller, on one thread, polled: the synchronous call at queue depth 1, and 32
 * asynchronous submissions reaped together at queue depth 32. Compare with {@link
 * NvmeModelBenchmark}, the same reads driven raw: the difference is what the driver costs.
 *
 * <p>The namespace is 1 GiB of 4 KiB blocks, written end to end first, so every read copies data.
 * Run with {@code -prof gc}: bytes per operation are what the driver (and model) allocate per I/O.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:MaxDirectMemorySize=4g"})
public class NvmeDriverBenchmark {
  private static final PciAddress NVME = PciAddress.parse("0000:00:04.0");
  private static final long NAMESPACE = 1L << 30;
  private static final int BLOCK = 4096;
  private static final long BLOCKS = NAMESPACE / BLOCK;
  private static final int DEPTH = 32;

  private SimMachine machine;
  private SimPciDeviceHandle device;
  private NvmeController nvme;
  private NvmeQueuePair io;
  private NvmeNamespace ns;
  private DmaHeap heap;
  private DmaBuffer buffers;
  private long random = 0x9e3779b97f4a7c15L;
  private int failures;
  private final CompletionHandler counter = this::completed;

  /** The controller brought up by the driver, one queue pair, the namespace written. */
  @Setup(Level.Trial)
  public void open() {
    NvmeModel model =
        new NvmeModel(
            NvmeOptions.builder().namespace(NamespaceOptions.sparse(NAMESPACE, BLOCK)).build());
    machine =
        SimMachine.builder()
            .driver(SimDriver.overrideOnly("vfio-pci"))
            .device(SimFunction.builder(NVME.toString()).iommuGroup(4).driver("vfio-pci"), model)
            .build();
    device = machine.open(NVME);
    nvme = NvmeController.open(device);
    io = nvme.createQueuePair(QueuePairOptions.depth(64));
    ns = nvme.namespace(1);
    heap = device.dma().heap(8L << 20);
    buffers = heap.allocate(512 << 10, 4096);
    buffers.segment().fill((byte) 0x5a);
    long chunk = (512 << 10) / BLOCK;
    for (long lba = 0; lba < BLOCKS; lba += chunk) {
      io.write(ns, lba, chunk, buffers, 0);
    }
  }

  /** Closes the driver, the device and the machine. */
  @TearDown(Level.Trial)
  public void close() {
    buffers.close();
    heap.close();
    io.close();
    nvme.close();
    device.close();
    machine.close();
    if (failures != 0) {
      throw new IllegalStateException(failures + " commands failed");
    }
  }

  /** One synchronous 4 KiB read at a random block: queue depth 1. */
  @Benchmark
  public void randomRead4kDepth1() {
    io.read(ns, nextBlock(), 1, buffers, 0);
  }

  /** The same, as latency: from the call to its return. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public void randomRead4kDepth1Latency() {
    io.read(ns, nextBlock(), 1, buffers, 0);
  }

  /** One synchronous 4 KiB write at a random block. */
  @Benchmark
  public void randomWrite4kDepth1() {
    io.write(ns, nextBlock(), 1, buffers, 0);
  }

  /** 32 asynchronous 4 KiB reads at random blocks, then all 32 reaped. */
  @Benchmark
  @OperationsPerInvocation(DEPTH)
  public int randomRead4kDepth32() {
    for (int i = 0; i < DEPTH; i++) {
      io.submitRead(ns, nextBlock(), 1, buffers, (long) i * BLOCK, i);
    }
    return io.awaitNanos(DEPTH, 1_000_000_000L, counter);
  }

  /** 32 asynchronous 4 KiB writes at random blocks, then all 32 reaped. */
  @Benchmark
  @OperationsPerInvocation(DEPTH)
  public int randomWrite4kDepth32() {
    for (int i = 0; i < DEPTH; i++) {
      io.submitWrite(ns, nextBlock(), 1, buffers, (long) i * BLOCK, i);
    }
    return io.awaitNanos(DEPTH, 1_000_000_000L, counter);
  }

  private void completed(long tag, int result, NvmeCommandException error) {
    if (error != null) {
      failures++;
    }
  }

  private long nextBlock() {
    random ^= random << 13;
    random ^= random >>> 7;
    random ^= random << 17;
    return (random >>> 1) % BLOCKS;
  }
}
