package dev.upcie.bench;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.nvme.NamespaceOptions;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.nvme.NvmeOptions;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * 4 KiB random reads from the simulated NVMe controller, driven at the queue level as a user-space
 * driver does (commands written into the submission queue, one doorbell per batch, completions
 * found by their phase tag), on one thread: at queue depth 1 and 32. A plain 4 KiB copy from random
 * places in 1 GiB is measured in the same run, as the bound: a read is at least that copy.
 *
 * <p>The namespace is 1 GiB of 4 KiB blocks, fully written first, so every read copies real data.
 * Run with {@code -prof gc}: bytes per operation are what the model allocates per command.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(
    value = 1,
    jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:MaxDirectMemorySize=4g"})
public class NvmeModelBenchmark {
  private static final PciAddress NVME = PciAddress.parse("0000:00:04.0");
  private static final long NAMESPACE = 1L << 30;
  private static final int BLOCK = 4096;
  private static final long BLOCKS = NAMESPACE / BLOCK;
  private static final int DEPTH = 32;
  private static final int ENTRIES = 64;

  private SimMachine machine;
  private SimPciDeviceHandle nvme;
  private DmaHeap heap;
  private Mmio bar0;
  private MemorySegment submissions;
  private MemorySegment completions;
  private long[] bufferAddresses;
  private long sqDoorbell;
  private long cqDoorbell;
  private int tail;
  private int head;
  private boolean phase = true;
  private long random = 0x9e3779b97f4a7c15L;
  private MemorySegment source;
  private MemorySegment destination;

  /** The controller, its admin and I/O queues, the namespace written end to end. */
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
    nvme = machine.open(NVME);
    nvme.config().enableBusMaster();
    bar0 = nvme.bar(0);
    heap = nvme.dma().heap(8L << 20);
    DmaBuffer adminSq = heap.allocate(4096, 4096, DmaBuffer.Scope.SHARED);
    DmaBuffer adminCq = heap.allocate(4096, 4096, DmaBuffer.Scope.SHARED);
    DmaBuffer ioSq = heap.allocate(ENTRIES * 64, 4096, DmaBuffer.Scope.SHARED);
    DmaBuffer ioCq = heap.allocate(ENTRIES * 16, 4096, DmaBuffer.Scope.SHARED);
    bufferAddresses = new long[DEPTH];
    DmaBuffer data = heap.allocate((long) DEPTH * BLOCK, 4096, DmaBuffer.Scope.SHARED);
    for (int i = 0; i < DEPTH; i++) {
      bufferAddresses[i] = data.deviceAddressValue((long) i * BLOCK);
    }
    bar0.write(NvmeRegisters.AQA, 0x00030003);
    bar0.write(NvmeRegisters.ASQ, adminSq.deviceAddressValue(0));
    bar0.write(NvmeRegisters.ACQ, adminCq.deviceAddressValue(0));
    bar0.write(NvmeRegisters.CC, 6 << 16 | 4 << 20 | 1);
    admin(
        adminSq,
        0,
        NvmeOpcodes.ADMIN_CREATE_CQ,
        ioCq.deviceAddressValue(0),
        1 | (ENTRIES - 1) << 16,
        1);
    admin(
        adminSq,
        1,
        NvmeOpcodes.ADMIN_CREATE_SQ,
        ioSq.deviceAddressValue(0),
        1 | (ENTRIES - 1) << 16,
        1 | 1 << 16);
    submissions = ioSq.segment();
    completions = ioCq.segment();
    sqDoorbell = NvmeRegisters.submissionTailDoorbell(1, 0);
    cqDoorbell = NvmeRegisters.completionHeadDoorbell(1, 0);
    // Fill the namespace: 512 KiB writes (MDTS) of a pattern, through a PRP list.
    DmaBuffer big = heap.allocate(512 * 1024, 4096, DmaBuffer.Scope.SHARED);
    big.segment().fill((byte) 0x5a);
    DmaBuffer list = heap.allocate(4096, 4096, DmaBuffer.Scope.SHARED);
    for (int i = 1; i < 128; i++) {
      list.segment().setAtIndex(ValueLayout.JAVA_LONG, i - 1, big.deviceAddressValue(i * 4096L));
    }
    for (long lba = 0; lba < BLOCKS; lba += 128) {
      int cid = place(NvmeOpcodes.IO_WRITE, lba, 128, big.deviceAddressValue(0));
      submissions.set(
          ValueLayout.JAVA_LONG,
          (long) ((tail + ENTRIES - 1) % ENTRIES) * 64 + NvmeCommandDescriptor.PRP2,
          list.deviceAddressValue(0));
      ring();
      reap(1);
      if (cid < 0) {
        throw new IllegalStateException();
      }
    }
    source = Arena.ofAuto().allocate(NAMESPACE, 4096);
    source.fill((byte) 0x5a);
    destination = Arena.ofAuto().allocate(BLOCK, 4096);
  }

  /** Closes the device and the machine. */
  @TearDown(Level.Trial)
  public void close() {
    heap.close();
    nvme.close();
    machine.close();
  }

  /** One 4 KiB read at a random block, submitted and waited for: queue depth 1. */
  @Benchmark
  public int randomRead4kDepth1() {
    return readOne();
  }

  /** The same, as latency: from writing the command to reaping its completion. */
  @Benchmark
  @BenchmarkMode(Mode.AverageTime)
  @OutputTimeUnit(TimeUnit.NANOSECONDS)
  public int randomRead4kDepth1Latency() {
    return readOne();
  }

  private int readOne() {
    place(NvmeOpcodes.IO_READ, nextBlock(), 1, bufferAddresses[0]);
    ring();
    return reap(1);
  }

  /** 32 random 4 KiB reads submitted with one doorbell, then all 32 completions reaped. */
  @Benchmark
  @OperationsPerInvocation(DEPTH)
  public int randomRead4kDepth32() {
    for (int i = 0; i < DEPTH; i++) {
      place(NvmeOpcodes.IO_READ, nextBlock(), 1, bufferAddresses[i]);
    }
    ring();
    return reap(DEPTH);
  }

  /** The bound: 4 KiB copied from a random 4 KiB-aligned place in 1 GiB of memory. */
  @Benchmark
  public MemorySegment memcpy4k() {
    MemorySegment.copy(source, nextBlock() * BLOCK, destination, 0, BLOCK);
    return destination;
  }

  private long nextBlock() {
    random ^= random << 13;
    random ^= random >>> 7;
    random ^= random << 17;
    return (random >>> 1) % BLOCKS;
  }

  private int place(int opcode, long lba, int blocks, long buffer) {
    long at = (long) tail * 64;
    int cid = tail;
    submissions.set(ValueLayout.JAVA_INT, at, opcode | cid << 16);
    submissions.set(ValueLayout.JAVA_INT, at + NvmeCommandDescriptor.NSID, 1);
    submissions.set(ValueLayout.JAVA_LONG, at + NvmeCommandDescriptor.PRP1, buffer);
    submissions.set(ValueLayout.JAVA_LONG, at + NvmeCommandDescriptor.CDW10, lba);
    submissions.set(ValueLayout.JAVA_INT, at + NvmeCommandDescriptor.CDW12, blocks - 1);
    tail = (tail + 1) % ENTRIES;
    return cid;
  }

  private void ring() {
    bar0.putIntRelease(sqDoorbell, tail);
  }

  /** Reaps {@code count} completions (the simulator posts them before the doorbell returns). */
  private int reap(int count) {
    int statuses = 0;
    for (int i = 0; i < count; i++) {
      int word = Short.toUnsignedInt(completions.get(ValueLayout.JAVA_SHORT, head * 16L + 14));
      if (((word & 1) == 1) != phase) {
        throw new IllegalStateException("completion " + i + " of " + count + " is missing");
      }
      statuses |= word >>> 1;
      head = (head + 1) % ENTRIES;
      if (head == 0) {
        phase = !phase;
      }
    }
    bar0.putIntRelease(cqDoorbell, head);
    if (statuses != 0) {
      throw new IllegalStateException("a read failed: status 0x" + Integer.toHexString(statuses));
    }
    return statuses;
  }

  private void admin(DmaBuffer sq, int slot, int opcode, long prp1, int cdw10, int cdw11) {
    MemorySegment entry = sq.segment().asSlice(slot * 64L, 64);
    entry.fill((byte) 0);
    entry.set(ValueLayout.JAVA_INT, 0, opcode | (slot + 1) << 16);
    entry.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1, prp1);
    entry.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10, cdw10);
    entry.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW11, cdw11);
    bar0.putIntRelease(NvmeRegisters.submissionTailDoorbell(0, 0), slot + 1);
  }
}
