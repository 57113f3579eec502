package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.as;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.nvme.driver.NvmeCommandException;
import dev.upcie.nvme.driver.NvmeCommandRecord;
import dev.upcie.nvme.driver.NvmeCommandRecord.State;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeControllerFatalException;
import dev.upcie.nvme.driver.NvmeControllerOptions;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.NvmeTimeoutException;
import dev.upcie.nvme.driver.QueuePairOptions;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.nvme.CommandMatch;
import dev.upcie.sim.nvme.NamespaceOptions;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.nvme.NvmeOptions;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The NVMe driver's failure paths, driven by the simulated controller's fault injection on virtual
 * time (so a 7.5-second timeout costs no wall-clock seconds). Host only: QEMU's device cannot be
 * told to fail a command, drop a completion or die, which is what the simulator is for.
 */
class NvmeDriverFaultsTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");

  private SimMachine machine;
  private NvmeModel model;
  private PciDeviceHandle device;

  private NvmeController open(NvmeOptions options, NvmeControllerOptions.Builder driver) {
    attach(new NvmeModel(options));
    return NvmeController.open(device, driver.clock(machine.virtualTime().waitClock()).build());
  }

  /** A machine on virtual time carrying {@code nvme}, opened as {@link #device}. */
  private void attach(NvmeModel nvme) {
    model = nvme;
    machine =
        SimMachine.builder()
            .virtualTime()
            .driver(SimDriver.overrideOnly("vfio-pci"))
            .device(SimFunction.builder(NVME.toString()).iommuGroup(5).driver("vfio-pci"), model)
            .build();
    device = machine.open(NVME);
  }

  private NvmeController open() {
    return open(NvmeOptions.defaults(), NvmeControllerOptions.builder());
  }

  @AfterEach
  void closeTheMachine() {
    if (device != null) {
      device.close();
    }
    if (machine != null) {
      machine.close();
    }
  }

  @Test
  void anInjectedStatusSurfacesAsTheTypedException() {
    try (NvmeController nvme = open();
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(8192, 4096)) {
      NvmeNamespace ns = nvme.namespace(1);
      model
          .faults()
          .failNext(
              CommandMatch.io(NvmeOpcodes.IO_READ).onNamespace(1),
              NvmeStatus.UNRECOVERED_READ_ERROR | NvmeStatus.DNR);

      assertThatThrownBy(() -> io.read(ns, 0x20, 16, buffer, 0))
          .isInstanceOfSatisfying(
              NvmeCommandException.class,
              e -> {
                assertThat(e.statusCode()).isEqualTo(NvmeStatus.UNRECOVERED_READ_ERROR);
                assertThat(e.statusCodeType()).as("media and data integrity").isEqualTo(2);
                assertThat(e.doNotRetry()).isTrue();
                assertThat(e.queueId()).isEqualTo(1);
                assertThat(e.command()).isEqualTo("Read (nsid 1, slba 0x20, 16 blocks)");
              })
          .hasMessage(
              "Read (nsid 1, slba 0x20, 16 blocks) on queue 1 failed: Unrecovered Read Error"
                  + " (sct 0x2, sc 0x81), do not retry");
      io.read(ns, 0x20, 16, buffer, 0); // the queue pair goes on
    }
  }

  @Test
  void anAsynchronousFailureReachesTheHandlerWithItsTag() {
    try (NvmeController nvme = open();
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4 * 4096, 4096)) {
      NvmeNamespace ns = nvme.namespace(2);
      model.faults().failNext(CommandMatch.io(NvmeOpcodes.IO_WRITE), NvmeStatus.WRITE_FAULT);
      List<String> seen = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        io.submitWrite(ns, i, 1, buffer, i * 4096L, 100 + i);
      }
      io.await(
          4,
          Duration.ofSeconds(1),
          (tag, result, error) ->
              seen.add(tag + (error == null ? " ok" : " " + error.statusName())));
      assertThat(seen).containsExactly("100 Write Fault", "101 ok", "102 ok", "103 ok");
    }
  }

  /** A delayed completion lets the ones after it overtake it; each is matched by its id. */
  @Test
  void outOfOrderCompletionsAreMatchedByCommandId() {
    try (NvmeController nvme = open();
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4 * 4096, 4096)) {
      NvmeNamespace ns = nvme.namespace(2);
      model
          .faults()
          .delayNextCompletion(CommandMatch.io(NvmeOpcodes.IO_READ), Duration.ofMillis(5));
      List<Long> order = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        io.submitRead(ns, i, 1, buffer, i * 4096L, i);
      }
      io.await(4, Duration.ofSeconds(1), (tag, result, error) -> order.add(tag));
      assertThat(order).containsExactly(1L, 2L, 3L, 0L);
      assertThat(io.spuriousCompletions()).isZero();
    }
  }

  @Test
  void aDroppedCompletionTimesOutNamingTheCommand() {
    try (NvmeController nvme =
            open(
                NvmeOptions.defaults(),
                NvmeControllerOptions.builder().commandTimeout(Duration.ofSeconds(2)));
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4096, 4096)) {
      NvmeNamespace ns = nvme.namespace(2);
      model.faults().dropNextCompletion(CommandMatch.io(NvmeOpcodes.IO_WRITE));
      long before = machine.virtualTime().nanoTime();

      assertThatThrownBy(() -> io.write(ns, 0x99, 1, buffer, 0))
          .isInstanceOf(NvmeTimeoutException.class)
          .hasMessageStartingWith(
              "Write (nsid 2, slba 0x99, 1 block) on queue 1 of 0000:00:05.0 (sim) did not"
                  + " complete within 2000 ms (1 command given up)");
      assertThat(machine.virtualTime().nanoTime() - before)
          .as("virtual time waited")
          .isGreaterThanOrEqualTo(Duration.ofSeconds(2).toNanos());
      assertThat(io.freeSlots()).as("the dropped command's slot stays taken").isEqualTo(6);
      io.read(ns, 0x99, 1, buffer, 0); // other commands still complete
    }
  }

  @Test
  void theHistoryShowsAFailedCommandsStatus() {
    try (NvmeController nvme = open();
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(8192, 4096)) {
      NvmeNamespace ns = nvme.namespace(1);
      model
          .faults()
          .failNext(
              CommandMatch.io(NvmeOpcodes.IO_READ),
              NvmeStatus.UNRECOVERED_READ_ERROR | NvmeStatus.DNR);
      assertThatThrownBy(() -> io.read(ns, 0x20, 16, buffer, 0))
          .isInstanceOf(NvmeCommandException.class);

      NvmeCommandRecord read = nvme.history().getLast();

      assertThat(read.state()).isEqualTo(State.COMPLETED);
      assertThat(NvmeStatus.code(read.status())).isEqualTo(NvmeStatus.UNRECOVERED_READ_ERROR);
      assertThat(NvmeStatus.doNotRetry(read.status())).isTrue();
      assertThat(read.toString())
          .endsWith(
              "  q1 cid 0  Read (nsid 1, slba 0x20, 16 blocks)"
                  + " -> Unrecovered Read Error (0x0281), DNR in 0 ns");
    }
  }

  /**
   * A command given up shows as timed out, in its place among the others, and so does an admin
   * command; the admin queue's history survives the reset that follows.
   */
  @Test
  void timedOutCommandsShowAsSuchAndTheHistorySurvivesAReset() {
    try (NvmeController nvme =
            open(
                NvmeOptions.defaults(),
                NvmeControllerOptions.builder().commandTimeout(Duration.ofSeconds(2)));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4096, 4096)) {
      NvmeNamespace ns = nvme.namespace(2);
      try (NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8))) {
        model.faults().dropNextCompletion(CommandMatch.io(NvmeOpcodes.IO_WRITE));
        assertThatThrownBy(() -> io.write(ns, 0x99, 1, buffer, 0))
            .isInstanceOf(NvmeTimeoutException.class);
        io.read(ns, 0x99, 1, buffer, 0);
      }
      model.faults().dropNextCompletion(CommandMatch.admin(NvmeOpcodes.ADMIN_GET_LOG_PAGE));
      assertThatThrownBy(nvme::smartLog).isInstanceOf(NvmeTimeoutException.class);
      nvme.reset();

      List<String> lines = nvme.history().stream().map(NvmeCommandRecord::toString).toList();

      assertThat(lines)
          .filteredOn(line -> line.contains("Write") || line.contains("Read"))
          .satisfiesExactly(
              write ->
                  assertThat(write)
                      .endsWith("  q1 cid 0  Write (nsid 2, slba 0x99, 1 block) -> timed out"),
              read ->
                  assertThat(read)
                      .startsWith("+2000.") // after the write's 2 s of virtual time
                      .endsWith(
                          "  q1 cid 1  Read (nsid 2, slba 0x99, 1 block)"
                              + " -> Successful Completion (0x0000) in 0 ns"));
      assertThat(lines)
          .filteredOn(line -> line.contains("Get Log Page"))
          .singleElement(as(InstanceOfAssertFactories.STRING))
          .endsWith("q0 cid 0  Get Log Page (nsid 0xffffffff, cdw10 0x7f0002) -> timed out");
      assertThat(nvme.history().getLast().name())
          .as("after the reset: Identify, Set Features")
          .isEqualTo("Set Features");
    }
  }

  @Test
  void theHistoryKeepsTheNewestCommandsItIsSizedForAndNoneAtZero() {
    try (NvmeController nvme =
            open(NvmeOptions.defaults(), NvmeControllerOptions.builder().historySize(4));
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4096, 4096)) {
      NvmeNamespace ns = nvme.namespace(2);
      for (int lba = 0; lba < 10; lba++) {
        io.write(ns, lba, 1, buffer, 0);
      }
      assertThat(nvme.history())
          .extracting(NvmeCommandRecord::slba)
          .containsExactly(6L, 7L, 8L, 9L);
    }
    closeTheMachine();

    try (NvmeController nvme =
            open(NvmeOptions.defaults(), NvmeControllerOptions.builder().historySize(0));
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4096, 4096)) {
      io.write(nvme.namespace(2), 0, 1, buffer, 0);
      assertThat(nvme.history()).isEmpty();
    }
  }

  @Test
  void aControllerThatNeverBecomesReadyTimesOutInVirtualTime() {
    NvmeModel neverReady = new NvmeModel(NvmeOptions.defaults());
    neverReady.faults().holdReady();
    attach(neverReady);
    long started = System.nanoTime();

    assertThatThrownBy(() ->
            NvmeController.open(
                device,
                NvmeControllerOptions.builder().clock(machine.virtualTime().waitClock()).build()))
        .isInstanceOf(NvmeTimeoutException.class)
        .hasMessageContaining("CSTS.RDY = 1 after CC.EN = 1 did not happen within 7500 ms")
        .hasMessageContaining("never became ready");
    assertThat(Duration.ofNanos(System.nanoTime() - started))
        .as("CAP.TO's 7.5 s passed in virtual time")
        .isLessThan(Duration.ofSeconds(5));
  }

  @Test
  void aSlowControllerIsWaitedFor() {
    NvmeOptions slow = NvmeOptions.builder().readyDelay(Duration.ofSeconds(3)).build();
    try (NvmeController nvme = open(slow, NvmeControllerOptions.builder())) {
      assertThat(nvme.identify().serialNumber()).isEqualTo(NvmeOptions.DEFAULT_SERIAL);
      assertThat(machine.virtualTime().nanoTime()).isGreaterThanOrEqualTo(3_000_000_000L);
    }
  }

  @Test
  void controllerFatalStatusIsReported() {
    try (NvmeController nvme = open();
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(8));
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(4096, 4096)) {
      NvmeNamespace ns = nvme.namespace(1);
      // A controller that dies does not complete what it was given.
      model.faults().raiseFatal();
      model.faults().dropNextCompletion(CommandMatch.io(NvmeOpcodes.IO_READ));

      assertThatThrownBy(() -> io.read(ns, 0, 1, buffer, 0))
          .isInstanceOf(NvmeControllerFatalException.class)
          .hasMessageContaining("0000:00:05.0 (sim) reported Controller Fatal Status (CSTS.CFS)")
          .hasMessageContaining("waiting for completions on queue 1")
          .hasMessageContaining("call NvmeController.reset()");

      nvme.reset();
      try (NvmeQueuePair again = nvme.createQueuePair(QueuePairOptions.depth(8))) {
        again.read(nvme.namespace(1), 0, 1, buffer, 0);
      }
      io.close();
    }
  }

  /**
   * PRP lists longer than a page chain through their last entry. QEMU's default MDTS (512 KiB)
   * never needs a second list page, so a controller without a limit shows it: 4 MiB at a sub-page
   * offset is 1025 pages, PRP1 and 1024 list entries over three list pages.
   */
  @Test
  void longPrpListsChainAcrossListPages() {
    NvmeOptions unlimited =
        NvmeOptions.builder().mdts(0).namespace(NamespaceOptions.sparse(64L << 20, 512)).build();
    try (NvmeController nvme =
            open(unlimited, NvmeControllerOptions.builder().maxTransferBytes(8L << 20));
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(4));
        DmaHeap heap = device.dma().heap(24L << 20);
        DmaBuffer out = heap.allocate(5L << 20, 4096);
        DmaBuffer in = heap.allocate(5L << 20, 4096)) {
      assertThat(nvme.maxTransferBytes()).isEqualTo(8L << 20);
      NvmeNamespace ns = nvme.namespace(1);
      long bytes = 3L << 20;
      NvmeDriverTest.fill(out.segment(), 512, bytes, 77);
      io.submitWrite(ns, 1000, (int) (bytes / 512), out, 512, 0);
      io.await(1, Duration.ofSeconds(5), (tag, result, error) -> assertThat(error).isNull());
      io.read(ns, 1000, bytes / 512, in, 512);
      NvmeDriverTest.assertPattern(in.segment(), 512, bytes, 77);
    }
  }
}
