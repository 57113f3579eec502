package dev.upcie.sim.nvme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.model.DmaFault;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What only the simulator can show of its NVMe controller: options QEMU's guests are not started
 * with, a delayed CSTS.RDY in virtual time, a namespace in a file, and DMA faults. What QEMU's
 * device also does is held to it by the it-qemu conformance tests, which run on both.
 */
class SimulatedNvmeTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:04.0");
  private static final int CC = 6 << 16 | 4 << 20 | 1; // 64 and 16-byte entries, enabled

  private static SimMachine machine(NvmeModel model) {
    return SimMachine.builder()
        .driver(SimDriver.overrideOnly("vfio-pci"))
        .device(SimFunction.builder(NVME.toString()).iommuGroup(4).driver("vfio-pci"), model)
        .virtualTime()
        .build();
  }

  /** A machine with {@code model}, its function open, a DMA heap, and the admin queues enabled. */
  private static final class Rig implements AutoCloseable {
    final SimMachine machine;
    final PciDeviceHandle nvme;
    final DmaHeap heap;
    final AdminPair admin;

    Rig(NvmeModel model) {
      machine = machine(model);
      nvme = machine.open(NVME);
      heap = nvme.dma().heap(1 << 20);
      nvme.config().enableBusMaster();
      admin = new AdminPair(nvme, heap);
    }

    @Override
    public void close() {
      heap.close();
      nvme.close();
      machine.close();
    }
  }

  @Test
  void bar0AndMsixFollowTheQueueAndVectorCountsAsQemuSizesThem() {
    NvmeModel many =
        new NvmeModel(NvmeOptions.builder().maxIoQueuePairs(1024).msixQueueSize(129).build());
    // Doorbells end at 0x3008; the table is at 0x4000 (129 vectors), pending bits at 0x5000.
    assertThat(many.bar0().size()).isEqualTo(32 * 1024);
    assertThat(new NvmeModel().bar0().size()).isEqualTo(NvmeModel.BAR0_SIZE);
  }

  @Test
  void optionsQemuRefusesAreRefusedWithTheOptionNamed() {
    assertThatThrownBy(() -> NvmeOptions.builder().maxIoQueuePairs(0).build())
        .hasMessageContaining("max_ioqpairs");
    assertThatThrownBy(() -> NvmeOptions.builder().msixQueueSize(2049).build())
        .hasMessageContaining("msix_qsize");
    assertThatThrownBy(() -> NamespaceOptions.sparse(1 << 20, 1024))
        .hasMessageContaining("512 or 4096");
    assertThatThrownBy(() ->
            NvmeOptions.builder()
                .namespace(NamespaceOptions.sparse(1 << 20, 512).nsid(2))
                .namespace(NamespaceOptions.sparse(1 << 20, 512).nsid(2))
                .build())
        .hasMessageContaining("namespace id '2' already allocated");
    NvmeOptions numbered =
        NvmeOptions.builder()
            .namespace(NamespaceOptions.sparse(1 << 20, 512).nsid(1))
            .namespace(NamespaceOptions.sparse(1 << 20, 512))
            .build();
    assertThat(numbered.namespaces()).extracting(NamespaceOptions::nsid).containsExactly(1, 2);
  }

  @Test
  void aReadyDelayHoldsCstsRdyBackInVirtualTime() {
    NvmeModel model =
        new NvmeModel(NvmeOptions.builder().readyDelay(Duration.ofMillis(500)).build());
    try (SimMachine machine = machine(model);
        PciDeviceHandle nvme = machine.open(NVME)) {
      Mmio bar0 = nvme.bar(0);
      bar0.write(NvmeRegisters.AQA, 0x00010001);
      bar0.write(NvmeRegisters.ASQ, 0x100000);
      bar0.write(NvmeRegisters.ACQ, 0x200000);
      bar0.write(NvmeRegisters.CC, CC);
      machine.virtualTime().advance(Duration.ofMillis(499));
      assertThat(bar0.read(NvmeRegisters.CSTS)).as("not yet").isZero();
      machine.virtualTime().advance(Duration.ofMillis(1));
      assertThat(bar0.read(NvmeRegisters.CSTS)).as("ready after 500 ms").isEqualTo(1);

      bar0.write(NvmeRegisters.CC, 0);
      bar0.write(NvmeRegisters.CC, CC);
      bar0.write(NvmeRegisters.CC, 0);
      machine.virtualTime().advance(Duration.ofSeconds(1));
      assertThat(bar0.read(NvmeRegisters.CSTS))
          .as("a disabled controller never turns ready")
          .isZero();
    }
  }

  /** A fault fetching a command is controller fatal status (CSTS is CFS alone), as in QEMU. */
  @Test
  void aSubmissionQueueOutsideEveryMappingIsControllerFatal() {
    try (SimMachine machine = machine(new NvmeModel());
        PciDeviceHandle nvme = machine.open(NVME);
        DmaHeap heap = nvme.dma().heap(1 << 20)) {
      nvme.config().enableBusMaster();
      DmaBuffer completions = heap.allocate(4096, 4096);
      Mmio bar0 = nvme.bar(0);
      bar0.write(NvmeRegisters.AQA, 0x00010001);
      bar0.write(NvmeRegisters.ASQ, 0x7000_0000L); // mapped by nobody
      bar0.write(NvmeRegisters.ACQ, completions.deviceAddress().value());
      bar0.write(NvmeRegisters.CC, CC);
      assertThat(bar0.read(NvmeRegisters.CSTS)).isEqualTo(1);

      bar0.putIntVolatile(NvmeRegisters.submissionTailDoorbell(0, 0), 1);

      assertThat(bar0.read(NvmeRegisters.CSTS)).as("CFS, RDY gone").isEqualTo(2);
      assertThat(machine.iommu().faults())
          .extracting(DmaFault::address)
          .containsExactly(0x7000_0000L);
    }
  }

  /**
   * A read whose data page lies outside every mapping completes successfully, as QEMU's does (its
   * DMA goes through a bounce buffer that drops the write), and the fault is in the machine's log.
   */
  @Test
  void aDataPageOutsideEveryMappingIsAFaultButNotAnError() {
    try (Rig rig = new Rig(new NvmeModel())) {
      SimMachine machine = rig.machine;
      AdminPair admin = rig.admin;
      int status = admin.run(identify(0x6000_0000L));
      assertThat(status).isEqualTo(NvmeStatus.SUCCESS);
      assertThat(machine.iommu().faults()).extracting(DmaFault::address).contains(0x6000_0000L);
    }
  }

  @Test
  void aFileBackedNamespaceKeepsWhatWasWrittenInTheFile(@TempDir Path dir) throws IOException {
    Path image = dir.resolve("ns1.img");
    NvmeModel model =
        new NvmeModel(
            NvmeOptions.builder().namespace(NamespaceOptions.file(image, 1 << 20, 4096)).build());
    try (Rig rig = new Rig(model)) {
      DmaHeap heap = rig.heap;
      AdminPair admin = rig.admin;
      admin.ioQueues();
      DmaBuffer data = heap.allocate(4096, 4096);
      data.segment().fill((byte) 0x3c);
      assertThat(admin.runIo(write(data.deviceAddress().value()))).isZero();
    }
    assertThat(Files.size(image)).isEqualTo(1 << 20);
    try (FileChannel file = FileChannel.open(image)) {
      ByteBuffer block = ByteBuffer.allocate(4096).order(ByteOrder.LITTLE_ENDIAN);
      file.read(block, 3 * 4096L);
      assertThat(block.array()).as("block 3").containsOnly((byte) 0x3c);
    }
  }

  @Test
  void aFailedCommandCompletesWithTheInjectedStatusAndIsNotExecuted() {
    NvmeModel model = new NvmeModel();
    try (Rig rig = new Rig(model)) {
      DmaHeap heap = rig.heap;
      AdminPair admin = rig.admin;
      admin.ioQueues();
      DmaBuffer data = heap.allocate(4096, 4096);
      data.segment().fill((byte) 0x11);
      model
          .faults()
          .failNext(
              CommandMatch.io(NvmeOpcodes.IO_WRITE).onNamespace(1),
              NvmeStatus.WRITE_FAULT | NvmeStatus.DNR);

      assertThat(admin.runIo(write(data.deviceAddress().value())))
          .isEqualTo(NvmeStatus.WRITE_FAULT | NvmeStatus.DNR);
      data.segment().fill((byte) 0);
      assertThat(admin.runIo(read(data.deviceAddress().value()))).isZero();
      assertThat(data.segment().get(ValueLayout.JAVA_LONG, 0)).as("nothing was written").isZero();
      assertThat(admin.runIo(write(data.deviceAddress().value()))).as("once only").isZero();
    }
  }

  @Test
  void aDelayedCompletionArrivesWhenVirtualTimeComesAndADroppedOneNever() {
    NvmeModel model = new NvmeModel();
    try (Rig rig = new Rig(model)) {
      SimMachine machine = rig.machine;
      DmaHeap heap = rig.heap;
      AdminPair admin = rig.admin;
      DmaBuffer data = heap.allocate(4096, 4096);
      model
          .faults()
          .delayNextCompletion(
              CommandMatch.admin(NvmeOpcodes.ADMIN_IDENTIFY), Duration.ofSeconds(2));
      admin.submit(0, identify(data.deviceAddress().value()));
      machine.virtualTime().advance(Duration.ofMillis(1999));
      assertThat(admin.next(0)).as("not yet").isEmpty();
      machine.virtualTime().advance(Duration.ofMillis(1));
      assertThat(admin.next(0)).as("two seconds later").contains(0);

      model.faults().dropNextCompletion(CommandMatch.admin(NvmeOpcodes.ADMIN_IDENTIFY));
      admin.submit(0, identify(data.deviceAddress().value()));
      machine.virtualTime().advance(Duration.ofHours(1));
      assertThat(admin.next(0)).as("never").isEmpty();
      assertThat(admin.run(identify(data.deviceAddress().value())))
          .as("the next command completes")
          .isZero();
    }
  }

  @Test
  void readyCanBeHeldBackAndFatalStatusRaised() {
    NvmeModel model = new NvmeModel();
    try (SimMachine machine = machine(model);
        PciDeviceHandle nvme = machine.open(NVME)) {
      Mmio bar0 = nvme.bar(0);
      bar0.write(NvmeRegisters.AQA, 0x00010001);
      model.faults().holdReady();
      bar0.write(NvmeRegisters.CC, CC);
      machine.virtualTime().advance(Duration.ofSeconds(60));
      assertThat(bar0.read(NvmeRegisters.CSTS)).as("held").isZero();
      model.faults().releaseReady();
      assertThat(bar0.read(NvmeRegisters.CSTS)).as("released").isEqualTo(1);
      model.faults().raiseFatal();
      assertThat(bar0.read(NvmeRegisters.CSTS)).as("RDY and CFS").isEqualTo(3);
      bar0.write(NvmeRegisters.CC, 0);
      assertThat(bar0.read(NvmeRegisters.CSTS)).as("a reset clears it").isZero();
    }
  }

  @Test
  void aRemovedNamespaceLeavesTheListFailsItsCommandsAndIsAnnounced() {
    NvmeModel model = new NvmeModel();
    try (Rig rig = new Rig(model)) {
      DmaHeap heap = rig.heap;
      AdminPair admin = rig.admin;
      admin.ioQueues();
      DmaBuffer data = heap.allocate(4096, 4096);
      int aer = admin.submit(0, command(NvmeOpcodes.ADMIN_ASYNC_EVENT_REQUEST));
      assertThat(admin.next(0)).isEmpty();

      model.faults().removeNamespace(2);

      assertThat(admin.next(0)).as("the event request completes").contains(0);
      assertThat(admin.dw0OfLast(0))
          .as("notice, namespace attribute changed, changed namespace list log")
          .isEqualTo(0x040002);
      MemorySegment list = identify(data.deviceAddress().value());
      list.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10, 2);
      assertThat(admin.run(list)).isZero();
      assertThat(data.segment().get(ValueLayout.JAVA_INT, 0)).isEqualTo(1);
      assertThat(data.segment().get(ValueLayout.JAVA_INT, 4)).as("2 is gone").isZero();
      MemorySegment log = command(NvmeOpcodes.ADMIN_GET_LOG_PAGE);
      log.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1, data.deviceAddress().value());
      log.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10, 0x04 | 1023 << 16);
      assertThat(admin.run(log)).isZero();
      assertThat(data.segment().get(ValueLayout.JAVA_INT, 0)).as("changed").isEqualTo(2);
      MemorySegment readTwo = read(data.deviceAddress().value());
      readTwo.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.NSID, 2);
      assertThat(admin.runIo(readTwo)).isEqualTo(NvmeStatus.INVALID_FIELD | NvmeStatus.DNR);
      assertThat(aer).isPositive();
      assertThatThrownBy(() -> model.faults().removeNamespace(2))
          .hasMessageContaining("no namespace 2");

      // With no request waiting, the event is queued (as QEMU's nvme_enqueue_event does) and
      // carried by the next one.
      model.faults().removeNamespace(1);
      admin.submit(0, command(NvmeOpcodes.ADMIN_ASYNC_EVENT_REQUEST));
      assertThat(admin.next(0)).as("the queued notice").contains(0);
      assertThat(admin.dw0OfLast(0)).isEqualTo(0x040002);
    }
  }

  @Test
  void theTraceShowsCommandsAndCompletionsDecoded() {
    try (Rig rig = new Rig(new NvmeModel())) {
      SimMachine machine = rig.machine;
      DmaHeap heap = rig.heap;
      AdminPair admin = rig.admin;
      admin.ioQueues();
      DmaBuffer data = heap.allocate(4096, 4096);
      MemorySegment beyond = read(data.deviceAddress().value());
      beyond.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.CDW10, 1L << 40);
      admin.runIo(beyond);

      String trace = machine.trace().toString();
      assertThat(trace)
          .contains("COMMAND            SQ0 Create I/O CQ cid 1 qid 1 entries 4 vector 0 flags 0x1")
          .contains("COMMAND            SQ1 Read cid 3 nsid 1 slba 0x10000000000 blocks 1")
          .contains(
              "COMPLETION         CQ1 cid 3 from SQ1 head 1: LBA Out of Range (0x0080), DNR, dw0"
                  + " 0x0, phase 1");
    }
  }

  private static MemorySegment command(int opcode) {
    MemorySegment sqe = MemorySegment.ofArray(new long[8]);
    sqe.set(ValueLayout.JAVA_BYTE, 0, (byte) opcode);
    return sqe;
  }

  private static MemorySegment read(long prp1) {
    MemorySegment sqe = write(prp1);
    sqe.set(ValueLayout.JAVA_BYTE, 0, (byte) NvmeOpcodes.IO_READ);
    return sqe;
  }

  private static MemorySegment identify(long prp1) {
    MemorySegment sqe = MemorySegment.ofArray(new long[8]);
    sqe.set(ValueLayout.JAVA_BYTE, 0, (byte) NvmeOpcodes.ADMIN_IDENTIFY);
    sqe.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1, prp1);
    sqe.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10, 1);
    return sqe;
  }

  private static MemorySegment createCq(DmaBuffer queue) {
    MemorySegment sqe = MemorySegment.ofArray(new long[8]);
    sqe.set(ValueLayout.JAVA_BYTE, 0, (byte) NvmeOpcodes.ADMIN_CREATE_CQ);
    sqe.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1, queue.deviceAddress().value());
    sqe.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10, 1 | 3 << 16);
    sqe.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW11, 1);
    return sqe;
  }

  private static MemorySegment createSq(DmaBuffer queue) {
    MemorySegment sqe = MemorySegment.ofArray(new long[8]);
    sqe.set(ValueLayout.JAVA_BYTE, 0, (byte) NvmeOpcodes.ADMIN_CREATE_SQ);
    sqe.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1, queue.deviceAddress().value());
    sqe.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10, 1 | 3 << 16);
    sqe.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW11, 1 | 1 << 16);
    return sqe;
  }

  private static MemorySegment write(long prp1) {
    MemorySegment sqe = MemorySegment.ofArray(new long[8]);
    sqe.set(ValueLayout.JAVA_BYTE, 0, (byte) NvmeOpcodes.IO_WRITE);
    sqe.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.NSID, 1);
    sqe.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1, prp1);
    sqe.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.CDW10, 3);
    return sqe;
  }

  /**
   * The admin queues and one I/O pair of 16 entries each. The simulator completes a command before
   * the doorbell write returns, so a completion is read at once, or is not there.
   */
  private static final class AdminPair {
    private static final int ENTRIES = 16;
    private final Mmio bar0;
    private final DmaBuffer[] submissions = new DmaBuffer[2];
    private final DmaBuffer[] completions = new DmaBuffer[2];
    final DmaBuffer ioSubmissions;
    final DmaBuffer ioCompletions;
    private final int[] tails = new int[2];
    private final int[] heads = new int[2];
    private final boolean[] phases = {true, true};
    private int nextId = 1;

    AdminPair(PciDeviceHandle nvme, DmaHeap heap) {
      bar0 = nvme.bar(0);
      submissions[0] = heap.allocate(4096, 4096);
      completions[0] = heap.allocate(4096, 4096);
      ioSubmissions = submissions[1] = heap.allocate(4096, 4096);
      ioCompletions = completions[1] = heap.allocate(4096, 4096);
      bar0.write(NvmeRegisters.AQA, (ENTRIES - 1) | (ENTRIES - 1) << 16);
      bar0.write(NvmeRegisters.ASQ, submissions[0].deviceAddress().value());
      bar0.write(NvmeRegisters.ACQ, completions[0].deviceAddress().value());
      bar0.write(NvmeRegisters.CC, CC);
    }

    /** Creates I/O queue pair 1. */
    void ioQueues() {
      assertThat(run(createCq(ioCompletions))).isZero();
      assertThat(run(createSq(ioSubmissions))).isZero();
    }

    int run(MemorySegment command) {
      submit(0, command);
      return next(0).orElseThrow();
    }

    int runIo(MemorySegment command) {
      submit(1, command);
      return next(1).orElseThrow();
    }

    /** Places {@code command} with a fresh command id and rings; returns the id. */
    int submit(int qid, MemorySegment command) {
      int cid = nextId++;
      command.set(ValueLayout.JAVA_SHORT, 2, (short) cid);
      MemorySegment.copy(command, 0, submissions[qid].segment(), tails[qid] * 64L, 64);
      tails[qid] = (tails[qid] + 1) % ENTRIES;
      bar0.putIntVolatile(NvmeRegisters.submissionTailDoorbell(qid, 0), tails[qid]);
      return cid;
    }

    /** The status of the next completion on queue {@code qid}, consumed; empty if none. */
    java.util.Optional<Integer> next(int qid) {
      MemorySegment entry = completions[qid].segment().asSlice(heads[qid] * 16L, 16);
      int word = Short.toUnsignedInt(entry.get(ValueLayout.JAVA_SHORT, 14));
      if (((word & 1) == 1) != phases[qid]) {
        return java.util.Optional.empty();
      }
      heads[qid] = (heads[qid] + 1) % ENTRIES;
      if (heads[qid] == 0) {
        phases[qid] = !phases[qid];
      }
      bar0.putIntVolatile(NvmeRegisters.completionHeadDoorbell(qid, 0), heads[qid]);
      return java.util.Optional.of(word >>> 1);
    }

    int dw0OfLast(int qid) {
      int last = (heads[qid] + ENTRIES - 1) % ENTRIES;
      return completions[qid].segment().get(ValueLayout.JAVA_INT, last * 16L);
    }
  }
}
