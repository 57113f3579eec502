package dev.upcie.assertj;

import static dev.upcie.assertj.UpcieAssertions.assertThat;
import static dev.upcie.assertj.UpcieAssertions.assertThatNvmeCommand;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.nvme.driver.NvmeCommandException;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.QueuePairOptions;
import dev.upcie.pci.PciAddress;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.nvme.CommandMatch;
import dev.upcie.sim.nvme.NvmeModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Status assertions on what the NVMe driver reports, with the simulator injecting failures. */
class NvmeCommandAssertTest {
  private SimMachine machine;
  private SimPciDeviceHandle device;
  private NvmeController controller;
  private NvmeQueuePair io;
  private NvmeNamespace ns;
  private DmaHeap heap;
  private DmaBuffer buffer;

  @BeforeEach
  void open() {
    machine = SimMachine.qemuQ35Vfio();
    device = machine.open(PciAddress.parse("0000:00:05.0"));
    controller = NvmeController.open(device);
    io = controller.createQueuePair(QueuePairOptions.depth(8));
    ns = controller.namespace(1);
    heap = device.dma().heap(2 << 20);
    buffer = heap.allocate(4096, 4096);
  }

  @AfterEach
  void close() {
    heap.close();
    io.close();
    controller.close();
    device.close();
    machine.close();
  }

  private void failNextRead(int status) {
    ((NvmeModel) device.model())
        .faults()
        .failNext(CommandMatch.io(NvmeOpcodes.IO_READ).onNamespace(1), status);
  }

  @Test
  void anInjectedStatusPassesFailsWithStatusAndTheChecksAfterIt() {
    failNextRead(NvmeStatus.UNRECOVERED_READ_ERROR | NvmeStatus.DNR);

    assertThatNvmeCommand(() -> io.read(ns, 0x20, 8, buffer, 0))
        .failsWithStatus(NvmeStatus.UNRECOVERED_READ_ERROR)
        .hasDnr()
        .hasStatusCodeType(2)
        .hasQueueId(1)
        .hasMessageContaining("Read (nsid 1, slba 0x20, 8 blocks)");
    assertThatNvmeCommand(() -> io.read(ns, 0x20, 8, buffer, 0)).succeeds();
  }

  @Test
  void theWrongStatusIsNamedBesideTheExpectedOne() {
    failNextRead(NvmeStatus.UNRECOVERED_READ_ERROR | NvmeStatus.DNR);

    assertThatThrownBy(() ->
            assertThatNvmeCommand(() -> io.read(ns, 0x20, 8, buffer, 0))
                .failsWithStatus(NvmeStatus.INVALID_FIELD))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining(
            ("Expecting%n  Read (nsid 1, slba 0x20, 8 blocks) on queue 1%nto have failed with"
                    + " status%n  Invalid Field in Command (0x0002)%nbut it failed with%n "
                    + " Unrecovered Read Error (0x0281), DNR")
                .formatted());
  }

  @Test
  void aCommandThatSucceedsOrThrowsSomethingElseFailsTheAssertion() {
    assertThatThrownBy(() ->
            assertThatNvmeCommand(() -> io.read(ns, 0, 8, buffer, 0))
                .failsWithStatus(NvmeStatus.LBA_OUT_OF_RANGE))
        .hasMessageContaining(
            "Expecting the NVMe command to fail with LBA Out of Range (0x0080), but it completed"
                + " successfully");

    // The driver refuses a range outside the namespace before the controller sees it.
    assertThatThrownBy(() ->
            assertThatNvmeCommand(() -> io.read(ns, ns.blocks(), 1, buffer, 0))
                .failsWithStatus(NvmeStatus.LBA_OUT_OF_RANGE))
        .hasMessageContaining(
            "to fail with LBA Out of Range (0x0080) (an NvmeCommandException), but it threw%n "
                .formatted())
        .hasMessageContaining("java.lang.IllegalArgumentException")
        .cause()
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void succeedsReportsTheFailure() {
    failNextRead(NvmeStatus.INTERNAL_ERROR);

    assertThatThrownBy(() -> assertThatNvmeCommand(() -> io.read(ns, 0, 8, buffer, 0)).succeeds())
        .hasMessageContaining("Expecting the NVMe command to succeed, but it threw")
        .hasMessageContaining("Internal Error (sct 0x0, sc 0x06), may be retried");
  }

  @Test
  void aCaughtExceptionHasTheSameAssertions() {
    failNextRead(NvmeStatus.INTERNAL_ERROR);
    NvmeCommandException failure = null;
    try {
      io.read(ns, 0, 8, buffer, 0);
    } catch (NvmeCommandException e) {
      failure = e;
    }

    assertThat(failure).hasStatus(NvmeStatus.INTERNAL_ERROR).doesNotHaveDnr();
    NvmeCommandException caught = failure;
    assertThatThrownBy(() -> assertThat(caught).hasDnr())
        .hasMessageContaining(
            "to have failed with Do Not Retry set, but its status was%n  Internal Error (0x0006)"
                .formatted());
    assertThatThrownBy(() -> assertThat(caught).hasQueueId(0))
        .hasMessageContaining("to have run on queue 0, but it ran on queue 1");
    assertThat(caught.getMessage()).startsWith("Read (nsid 1, slba 0x0, 8 blocks)");
  }
}
