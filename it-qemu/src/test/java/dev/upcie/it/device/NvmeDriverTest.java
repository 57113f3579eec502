package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.junit.PciDevice;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.nvme.driver.CompletionHandler;
import dev.upcie.nvme.driver.IdentifyController;
import dev.upcie.nvme.driver.IdentifyNamespace;
import dev.upcie.nvme.driver.NvmeCommandException;
import dev.upcie.nvme.driver.NvmeCommandRecord;
import dev.upcie.nvme.driver.NvmeCommandRecord.State;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.QueuePairOptions;
import dev.upcie.nvme.driver.SmartLog;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.nvme.NvmeOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The reference NVMe driver ({@link NvmeController}) against QEMU's controller: on the simulated
 * model on the host, and on QEMU's device through VFIO (IOMMU on) and UIO (physical addresses,
 * INTx) in the guests. The same assertions hold on all three, so the driver is proven on the real
 * path and the model is held to QEMU's device once more, through a real driver.
 *
 * <p>The controller's layout is the run's {@link NvmeLayout}: tests that need a block size take the
 * layout's first namespace of that size (namespace 1 of 512-byte blocks and namespace 2 of 4 KiB
 * blocks in the default layout), and what Identify reports is held to the layout. Each test writes
 * what it reads back, in a region of its own, so tests do not depend on each other or on what other
 * test classes left on QEMU's images.
 */
public class NvmeDriverTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final NvmeLayout LAYOUT = NvmeLayout.current();

  /** The namespace of 512-byte blocks. */
  private static final int SMALL = LAYOUT.withBlockSize(512).nsid();

  /** The namespace of 4 KiB blocks. */
  private static final int LARGE = LAYOUT.withBlockSize(4096).nsid();

  private static String serial() {
    return System.getProperty(GuestRun.NVME_SERIAL, NvmeOptions.DEFAULT_SERIAL);
  }

  @Test
  void bringUpIdentifiesQemusController(@PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device)) {
      IdentifyController id = nvme.identify();
      assertThat(id.vendorId()).as("VID").isEqualTo(0x1b36);
      assertThat(id.serialNumber()).isEqualTo(serial());
      assertThat(id.modelNumber()).isEqualTo("QEMU NVMe Ctrl");
      assertThat(id.firmwareRevision()).isNotBlank();
      assertThat(id.maxDataTransferSize()).as("MDTS").isEqualTo(LAYOUT.mdts());
      assertThat(nvme.maxTransferBytes()).isEqualTo(LAYOUT.maxTransferBytes());
      assertThat(id.version().major()).isEqualTo(1);
      assertThat(id.submissionEntrySizes()).as("SQES: 64-byte entries").isEqualTo(0x66);
      assertThat(id.completionEntrySizes()).as("CQES: 16-byte entries").isEqualTo(0x44);
      assertThat(id.supportsWriteZeroes()).isTrue();
      assertThat(id.supportsDatasetManagement()).isTrue();
      assertThat(nvme.grantedQueuePairs()).as("8 asked for; QEMU grants 64").isEqualTo(8);
      assertThat(nvme.activeNamespaces()).containsExactlyElementsOf(LAYOUT.nsids());

      for (NvmeLayout.Namespace expected : LAYOUT.namespaces()) {
        IdentifyNamespace identify = nvme.identifyNamespace(expected.nsid());
        assertThat(identify.blockSize())
            .as("block size of %s", expected)
            .isEqualTo(expected.blockSize());
        assertThat(identify.size()).as("NSZE of %s", expected).isEqualTo(expected.blocks());
        assertThat(identify.capacity()).isEqualTo(identify.size());
        assertThat(identify.format().metadataSize()).isZero();
        NvmeNamespace ns = nvme.namespace(expected.nsid());
        assertThat(ns.blockSize()).isEqualTo(expected.blockSize());
        assertThat(ns.blocks()).isEqualTo(expected.blocks());
        assertThat(ns.bytes()).isEqualTo(expected.bytes());
      }
      int inactive = LAYOUT.inactiveNsid();
      assertThat(nvme.identifyNamespace(inactive).active())
          .as("namespace %d is not attached", inactive)
          .isFalse();
    }
    assertThat(NvmeRegisters.CSTS_RDY.isSet(device.bar(0).read(NvmeRegisters.CSTS)))
        .as("closed: disabled after shutdown")
        .isFalse();
  }

  @Test
  void closingShutsTheControllerDownBeforeDisablingIt(
      @PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    NvmeController nvme = NvmeController.open(device);
    nvme.close();
    long cc = device.bar(0).read(NvmeRegisters.CC);
    assertThat(NvmeRegisters.CC_EN.isSet(cc)).isFalse();
    assertThat(nvme.isClosed()).isTrue();
    assertThatThrownBy(nvme::identify)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is closed");
    nvme.close(); // harmless
  }

  @Test
  void featuresAndLogPages(@PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device)) {
      int queues = nvme.getFeature(NvmeController.FEATURE_NUMBER_OF_QUEUES, 0, 0, 0);
      assertThat(queues & 0xffff).as("NSQA, 0-based: all QEMU has").isEqualTo(63);
      // The composite temperature's over-temperature threshold: changeable, in kelvin.
      int threshold = 0x04;
      int saved = nvme.getFeature(threshold, 0, 0, 0);
      nvme.setFeature(threshold, 0, 0x150, false);
      assertThat(nvme.getFeature(threshold, 0, 0, 0)).isEqualTo(0x150);
      assertThat(nvme.getFeature(threshold, 1, 0, 0)).as("the default, 70 °C").isEqualTo(0x157);
      nvme.setFeature(threshold, 0, saved, false);
      assertThat(nvme.getFeature(threshold, 0, 0, 0)).isEqualTo(saved);

      SmartLog smart = nvme.smartLog();
      assertThat(smart.criticalWarning()).isZero();
      assertThat(smart.temperature()).as("kelvin, QEMU's 50 °C").isEqualTo(0x143);
      assertThat(smart.powerOnHours().signum()).isNotNegative();

      assertThatThrownBy(() -> nvme.getFeature(0x7f, 0, 0, 0))
          .isInstanceOfSatisfying(
              NvmeCommandException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(NvmeStatus.INVALID_FIELD);
                assertThat(e.queueId()).isZero();
                assertThat(e.doNotRetry()).isTrue();
              })
          .hasMessageContaining(
              "Get Features (nsid 0) on queue 0 failed: Invalid Field in Command");
      assertThat(nvme.errorLog(4)).isNotNull();
    }
  }

  @ParameterizedTest(name = "depth {0}")
  @CsvSource({"2", "33", "1024"})
  void queuePairsOfSeveralDepthsAreCreatedUsedAndDeleted(
      int depth, @PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device);
        DmaHeap heap = device.dma().heap(4 << 20);
        DmaBuffer buffer = heap.allocate(64 << 10, 4096)) {
      NvmeNamespace ns = nvme.namespace(LARGE);
      List<NvmeQueuePair> pairs = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        pairs.add(nvme.createQueuePair(QueuePairOptions.depth(depth)));
      }
      assertThat(pairs).extracting(NvmeQueuePair::id).containsExactly(1, 2, 3);
      for (NvmeQueuePair io : pairs) {
        assertThat(io.freeSlots()).isEqualTo(depth - 1);
        long lba = 100 + 16L * io.id();
        fill(buffer.segment(), 0, 4096, lba);
        io.write(ns, lba, 1, buffer, 0);
      }
      pairs.get(1).close();
      NvmeQueuePair again = nvme.createQueuePair(QueuePairOptions.depth(depth));
      assertThat(again.id()).as("the lowest free id comes back").isEqualTo(2);
      pairs.set(1, again);
      for (NvmeQueuePair io : pairs) {
        long lba = 100 + 16L * io.id();
        buffer.segment().fill((byte) 0);
        io.read(ns, lba, 1, buffer, 0);
        assertPattern(buffer.segment(), 0, 4096, lba);
        io.flush(ns);
      }
      pairs.forEach(NvmeQueuePair::close);
    }
  }

  /**
   * Transfers of every PRP shape, at page and sub-page offsets: one page (PRP1 alone), two (PRP2 a
   * page), three and more (PRP2 a list), and more than MDTS allows (split into several commands:
   * from 512 KiB on in the default layout, from 128 KiB in mdts5-3ns).
   */
  @ParameterizedTest(name = "{0}-byte blocks, {1} bytes at offset {2}")
  @CsvSource({
    "512, 512, 0",
    "512, 512, 3584",
    "512, 4096, 0",
    "512, 4096, 512",
    "512, 8192, 0",
    "512, 8192, 1024",
    "512, 12288, 0",
    "512, 65536, 512",
    "512, 524288, 0",
    "512, 524288, 2048",
    "512, 1048576, 512",
    "4096, 4096, 0",
    "4096, 8192, 2052",
    "4096, 20480, 0",
    "4096, 2097152, 0",
    "4096, 1572864, 4",
  })
  void writesAndReadsBackEveryPrpShape(
      int blockSize, int bytes, int offset, @PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    int nsid = LAYOUT.withBlockSize(blockSize).nsid();
    try (NvmeController nvme = NvmeController.open(device);
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(12 << 20);
        DmaBuffer out = heap.allocate(bytes + 8192, 4096);
        DmaBuffer in = heap.allocate(bytes + 8192, 4096)) {
      NvmeNamespace ns = nvme.namespace(nsid);
      long blocks = bytes / ns.blockSize();
      long lba = (4L << 20) / ns.blockSize() + offset; // a region of its own, per case
      fill(out.segment(), offset, bytes, lba);
      io.write(ns, lba, blocks, out, offset);
      in.segment().fill((byte) 0x5a);
      io.read(ns, lba, blocks, in, offset);
      assertPattern(in.segment(), offset, bytes, lba);
      assertThat(in.segment().get(ValueLayout.JAVA_BYTE, offset + bytes))
          .as("nothing written past the transfer")
          .isEqualTo((byte) 0x5a);
      if (offset > 0) {
        assertThat(in.segment().get(ValueLayout.JAVA_BYTE, offset - 1))
            .as("nothing written before it")
            .isEqualTo((byte) 0x5a);
      }
    }
  }

  @Test
  void writeZeroesAndDeallocateReadBackAsZeroes(
      @PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device);
        NvmeQueuePair io = nvme.createQueuePair();
        DmaHeap heap = device.dma().heap(4 << 20);
        DmaBuffer buffer = heap.allocate(64 << 10, 4096)) {
      NvmeNamespace ns = nvme.namespace(LARGE);
      long lba = 3000;
      fill(buffer.segment(), 0, 64 << 10, lba);
      io.write(ns, lba, 16, buffer, 0);
      io.flush(ns);
      io.writeZeroes(ns, lba + 2, 4);
      io.deallocate(ns, lba + 10, 3);
      io.read(ns, lba, 16, buffer, 0);
      for (int block = 0; block < 16; block++) {
        MemorySegment b = buffer.segment().asSlice(block * 4096L, 4096);
        boolean zeroed = (block >= 2 && block < 6) || (block >= 10 && block < 13);
        if (zeroed) {
          assertThat(b.mismatch(MemorySegment.ofArray(new byte[4096])))
              .as("block %d reads as zeroes", block)
              .isEqualTo(-1);
        } else {
          assertPattern(buffer.segment(), block * 4096L, 4096, lba, block * 4096L);
        }
      }
    }
  }

  @Test
  void asynchronousCommandsCompleteByTagAtQueueDepth32(
      @PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device);
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(64));
        DmaHeap heap = device.dma().heap(4 << 20);
        DmaBuffer buffer = heap.allocate(32 * 4096, 4096)) {
      NvmeNamespace ns = nvme.namespace(LARGE);
      long base = 5000;
      for (int i = 0; i < 32; i++) {
        fill(buffer.segment(), i * 4096L, 4096, base + i);
        io.submitWrite(ns, base + i, 1, buffer, i * 4096L, i);
      }
      assertThat(io.outstanding()).isEqualTo(32);
      BitSet done = new BitSet();
      CompletionHandler handler =
          (tag, result, error) -> {
            assertThat(error).isNull();
            assertThat(done.get((int) tag)).as("tag %d once", tag).isFalse();
            done.set((int) tag);
          };
      io.await(32, TIMEOUT, handler);
      assertThat(done.cardinality()).isEqualTo(32);
      buffer.segment().fill((byte) 0);
      done.clear();
      for (int i = 31; i >= 0; i--) {
        io.submitRead(ns, base + i, 1, buffer, i * 4096L, i);
      }
      io.await(32, TIMEOUT, handler);
      assertThat(done.cardinality()).isEqualTo(32);
      assertThat(io.outstanding()).isZero();
      assertThat(io.spuriousCompletions()).isZero();
      for (int i = 0; i < 32; i++) {
        assertPattern(buffer.segment(), i * 4096L, 4096, base + i);
      }
    }
  }

  /**
   * Completion by interrupt: MSI-X, each queue pair on its own vector, through VFIO and on the
   * simulator; INTx through UIO.
   */
  @Test
  void interruptDrivenQueuePairsComplete(@PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device);
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(16).withInterrupts());
        DmaHeap heap = device.dma().heap(4 << 20);
        DmaBuffer buffer = heap.allocate(16 * 4096, 4096)) {
      InterruptMode mode = device.interrupts().mode().orElseThrow();
      assertThat(io.vector()).isEqualTo(mode == InterruptMode.MSIX ? io.id() : 0);
      NvmeNamespace ns = nvme.namespace(SMALL);
      for (int round = 0; round < 5; round++) {
        long lba = 9000 + round * 128L;
        fill(buffer.segment(), 0, 16 * 4096, lba);
        io.write(ns, lba, 128, buffer, 0);
        buffer.segment().fill((byte) 0);
        io.read(ns, lba, 128, buffer, 0);
        assertPattern(buffer.segment(), 0, 16 * 4096, lba);
      }
    }
  }

  @Test
  void mistakesAreRefusedBeforeTheDeviceSeesThem(
      @PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device);
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(4));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(8192, 4096)) {
      NvmeNamespace ns = nvme.namespace(SMALL);
      assertThatThrownBy(() -> io.read(ns, ns.blocks() - 1, 2, buffer, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(
              "blocks %d to %d are outside namespace %d", ns.blocks() - 1, ns.blocks(), SMALL);
      assertThatThrownBy(() -> io.write(ns, 0, 17, buffer, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("do not fit in");
      assertThatThrownBy(() -> io.read(ns, 0, 1, buffer, 2))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("not 4-byte aligned");
      assertThatThrownBy(() -> io.submitRead(ns, 0, 2048, buffer, 0, 0))
          .isInstanceOf(IllegalArgumentException.class);
      assertThatThrownBy(() -> nvme.namespace(7))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("namespace 7 is not active")
          .hasMessageContaining("active namespaces: " + LAYOUT.nsids());
      assertThatThrownBy(() -> nvme.namespace(0x1000))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("does not exist")
          .hasCauseInstanceOf(NvmeCommandException.class);
      for (int i = 0; i < 3; i++) {
        io.submitFlush(ns, i);
      }
      assertThatThrownBy(() -> io.submitFlush(ns, 3))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("is full (3 commands outstanding)");
      assertThatThrownBy(() -> io.read(ns, 0, 1, buffer, 0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("reap them before a synchronous call");
      io.await(3, TIMEOUT, (tag, result, error) -> assertThat(error).isNull());
      io.read(ns, 0, 1, buffer, 0);
      io.close();
      assertThatThrownBy(() -> io.read(ns, 0, 1, buffer, 0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("queue pair 1 is closed");
    }
  }

  @Test
  void aQueuePairBelongsToItsThread(@PciDevice(id = "1b36:0010") PciDeviceHandle device)
      throws Exception {
    try (NvmeController nvme = NvmeController.open(device);
        NvmeQueuePair confined = nvme.createQueuePair(QueuePairOptions.depth(4));
        NvmeQueuePair shared = nvme.createQueuePair(QueuePairOptions.depth(4).withSharedMemory());
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4096, 4096, DmaBuffer.Scope.SHARED)) {
      NvmeNamespace ns = nvme.namespace(LARGE);
      List<Throwable> failures = new ArrayList<>();
      Thread other =
          Thread.ofPlatform()
              .name("other")
              .start(() -> {
                try {
                  assertThatThrownBy(() -> confined.flush(ns))
                      .isInstanceOf(IllegalStateException.class)
                      .hasMessageContaining("belongs to thread");
                  shared.write(ns, 7000, 1, buffer, 0);
                  shared.read(ns, 7000, 1, buffer, 0);
                } catch (Throwable t) {
                  failures.add(t);
                }
              });
      other.join(TIMEOUT.toMillis());
      assertThat(failures).isEmpty();
      confined.flush(ns);
    }
  }

  /**
   * A controller reset deletes every I/O queue: old queue pairs say so instead of ringing doorbells
   * of queues that are gone, new ones work, and the data stays.
   */
  @Test
  void resetWhileQueuesExist(@PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device);
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4096, 4096)) {
      NvmeNamespace ns = nvme.namespace(LARGE);
      NvmeQueuePair before = nvme.createQueuePair(QueuePairOptions.depth(8));
      fill(buffer.segment(), 0, 4096, 8000);
      before.write(ns, 8000, 1, buffer, 0);
      before.submitFlush(ns, 1);

      nvme.reset();

      assertThatThrownBy(() -> before.read(ns, 8000, 1, buffer, 0))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("queue pair 1 is gone: the controller was reset");
      before.close();
      NvmeNamespace again = nvme.namespace(LARGE);
      try (NvmeQueuePair after = nvme.createQueuePair(QueuePairOptions.depth(8))) {
        assertThat(after.id()).isEqualTo(1);
        buffer.segment().fill((byte) 0);
        after.read(again, 8000, 1, buffer, 0);
        assertPattern(buffer.segment(), 0, 4096, 8000);
      }
    }
  }

  /**
   * The controller's history lists its commands oldest first, admin and I/O together, each with how
   * it ended; a closed queue pair's commands stay in it, and it outlives the controller, as a
   * failure report needs.
   */
  @Test
  void theHistoryListsEveryCommandOldestFirstAndOutlivesTheController(
      @PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    NvmeController nvme = NvmeController.open(device);
    try (DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(8192, 4096)) {
      NvmeNamespace ns = nvme.namespace(SMALL);
      try (NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(4))) {
        fill(buffer.segment(), 0, 8192, 20000);
        io.write(ns, 20000, 16, buffer, 0);
        io.read(ns, 20000, 16, buffer, 0);
        io.flush(ns);
      }
    } finally {
      nvme.close();
    }

    List<NvmeCommandRecord> history = nvme.history();

    assertThat(history)
        .extracting(NvmeCommandRecord::queueId, NvmeCommandRecord::name)
        .containsExactly(
            tuple(0, "Identify"),
            tuple(0, "Set Features"),
            tuple(0, "Identify"),
            tuple(0, "Create I/O CQ"),
            tuple(0, "Create I/O SQ"),
            tuple(1, "Write"),
            tuple(1, "Read"),
            tuple(1, "Flush"),
            tuple(0, "Delete I/O SQ"),
            tuple(0, "Delete I/O CQ"));
    assertThat(history).extracting(NvmeCommandRecord::state).containsOnly(State.COMPLETED);
    assertThat(history).extracting(NvmeCommandRecord::status).containsOnly(NvmeStatus.SUCCESS);
    assertThat(history)
        .allSatisfy(r -> assertThat(r.completedNanos()).isGreaterThanOrEqualTo(r.submittedNanos()))
        .extracting(NvmeCommandRecord::submittedNanos)
        .isSorted();
    assertThat(history.get(0).cdw10()).as("Identify Controller: CNS 01h").isEqualTo(1);
    NvmeCommandRecord write = history.get(5);
    assertThat(write.nsid()).isEqualTo(SMALL);
    assertThat(write.slba()).isEqualTo(20000);
    assertThat(write.blocks()).isEqualTo(16);
    assertThat(write.toString())
        .matches(
            "\\+\\d+\\.\\d{3} ms  q1 cid \\d+  Write \\(nsid "
                + SMALL
                + ", slba 0x4e20, 16 blocks\\)"
                + " -> Successful Completion \\(0x0000\\) in \\d+(\\.\\d{3})? (ns|µs|ms|s)");
  }

  /** Bytes that depend on the LBA they were written for and their place in the transfer. */
  static void fill(MemorySegment segment, long offset, long bytes, long lba) {
    SplittableRandom random = new SplittableRandom(lba * 0x9e3779b97f4a7c15L);
    for (long i = 0; i < bytes; i += 8) {
      segment.set(ValueLayout.JAVA_LONG_UNALIGNED, offset + i, random.nextLong());
    }
  }

  static void assertPattern(MemorySegment segment, long offset, long bytes, long lba) {
    assertPattern(segment, offset, bytes, lba, 0);
  }

  /** Asserts the pattern of {@link #fill} for {@code lba}, starting {@code skip} bytes into it. */
  static void assertPattern(MemorySegment segment, long offset, long bytes, long lba, long skip) {
    byte[] expected = new byte[Math.toIntExact(skip + bytes)];
    fill(MemorySegment.ofArray(expected), 0, expected.length, lba);
    MemorySegment want = MemorySegment.ofArray(expected).asSlice(skip, bytes);
    long at = segment.asSlice(offset, bytes).mismatch(want);
    assertThat(at)
        .as("first byte that differs from what was written for lba %d", lba)
        .isEqualTo(-1);
  }
}
