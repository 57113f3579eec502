package dev.upcie.assertj;

import static dev.upcie.assertj.UpcieAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.await.DeviceAwait;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeCompletion;
import dev.upcie.nvme.NvmeCompletionDescriptor;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.pci.PciAddress;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Completion assertions on entries the simulated NVMe controller posted to an admin queue driven by
 * hand (no driver in between, so the entries are exactly what the controller wrote).
 */
class NvmeCompletionAssertTest {
  private static final int ENTRIES = 16;
  private static final int CNS_CONTROLLER = 0x01;
  private static final int CNS_UNKNOWN = 0xff;

  private SimMachine machine;
  private SimPciDeviceHandle nvme;
  private Mmio bar0;
  private DmaHeap heap;
  private DmaBuffer sq;
  private DmaBuffer cq;
  private DmaBuffer data;
  private int tail;

  @BeforeEach
  void enableWithAnAdminQueue() {
    machine = SimMachine.qemuQ35Vfio();
    nvme = machine.open(PciAddress.parse("0000:00:05.0"));
    nvme.config().enableBusMaster();
    bar0 = nvme.bar(0);
    heap = nvme.dma().heap(2 << 20);
    sq = zeroed(ENTRIES * NvmeCommandDescriptor.SIZE);
    cq = zeroed(ENTRIES * NvmeCompletionDescriptor.SIZE);
    data = zeroed(4096);
    bar0.write(NvmeRegisters.AQA, (ENTRIES - 1) | (ENTRIES - 1) << 16);
    bar0.write(NvmeRegisters.ASQ, sq.deviceAddress().value());
    bar0.write(NvmeRegisters.ACQ, cq.deviceAddress().value());
    long cc = NvmeRegisters.CC_IOSQES.set(0, 6);
    cc = NvmeRegisters.CC_IOCQES.set(cc, 4);
    bar0.write(NvmeRegisters.CC, NvmeRegisters.CC_EN.set(cc, 1));
    DeviceAwait.on(bar0).atMost(Duration.ofSeconds(10)).until(NvmeRegisters.CSTS_RDY, 1);
  }

  @AfterEach
  void close() {
    bar0.write(NvmeRegisters.CC, 0);
    heap.close();
    nvme.close();
    machine.close();
  }

  @Test
  void aSuccessfulIdentifyPassesEveryCheckOfItsEntry() {
    NvmeCompletion entry = identify(7, CNS_CONTROLLER);

    assertThat(entry)
        .isSuccessful()
        .hasStatus(NvmeStatus.SUCCESS)
        .hasCommandId(7)
        .hasSqId(0)
        .hasSqHead(1)
        .hasPhase(true)
        .doesNotHaveDnr();
  }

  @Test
  void anInvalidFieldPassesHasStatusAndHasDnr() {
    NvmeCompletion entry = identify(9, CNS_UNKNOWN);

    assertThat(entry)
        .hasStatus(NvmeStatus.INVALID_FIELD)
        .hasStatus(NvmeStatus.INVALID_FIELD | NvmeStatus.DNR)
        .hasStatusCodeType(0)
        .hasDnr()
        .hasCommandId(9);
  }

  @Test
  void aWrongStatusNamesBothStatusesBySpecNameAndHex() {
    NvmeCompletion entry = identify(9, CNS_UNKNOWN);

    assertThatThrownBy(() -> assertThat(entry).isSuccessful())
        .hasMessageContaining(
            "NvmeCompletion[cid 9, status Invalid Field in Command (0x0002), DNR, dw0 0x0, sq 0"
                + " head 1, phase 1]")
        .hasMessageContaining(
            "to be successful, but its status was%n  Invalid Field in Command (0x0002), DNR"
                .formatted());
    assertThatThrownBy(() -> assertThat(entry).hasStatus(NvmeStatus.LBA_OUT_OF_RANGE))
        .hasMessageContaining(
            "to have status%n  LBA Out of Range (0x0080)%nbut it had%n  Invalid Field in Command"
                    .formatted()
                + " (0x0002), DNR");
  }

  @Test
  void aMissingFlagOrAWrongIdFails() {
    NvmeCompletion success = identify(3, CNS_CONTROLLER);

    assertThatThrownBy(() -> assertThat(success).hasDnr())
        .hasMessageContaining("cid 3, status Successful Completion (0x0000)")
        .hasMessageContaining("to have Do Not Retry set");
    assertThatThrownBy(() -> assertThat(success).hasStatus(NvmeStatus.SUCCESS | NvmeStatus.DNR))
        .hasMessageContaining("to have status%n  Successful Completion (0x0000), DNR".formatted());
    assertThatThrownBy(() -> assertThat(success).hasCommandId(4))
        .hasMessageContaining("to have command id 4, but it had 3");
    assertThatThrownBy(() -> assertThat(success).hasPhase(false))
        .hasMessageContaining("to have phase tag 0: it is not the entry expected");
  }

  @Test
  void anEntryTheControllerHasNotWrittenHasTheOldPhase() {
    identify(1, CNS_CONTROLLER);

    assertThat(NvmeCompletion.read(cq.segment(), NvmeCompletionDescriptor.SIZE)).hasPhase(false);
  }

  // Runs Identify with {@code cns} as command {@code cid} and returns its completion entry.
  private NvmeCompletion identify(int cid, int cns) {
    int slot = tail;
    MemorySegment command =
        sq.segment().asSlice((long) slot * NvmeCommandDescriptor.SIZE, NvmeCommandDescriptor.SIZE);
    command.set(
        ValueLayout.JAVA_BYTE, NvmeCommandDescriptor.OPCODE, (byte) NvmeOpcodes.ADMIN_IDENTIFY);
    command.set(ValueLayout.JAVA_SHORT, NvmeCommandDescriptor.COMMAND_ID, (short) cid);
    command.set(ValueLayout.JAVA_LONG, NvmeCommandDescriptor.PRP1, data.deviceAddress().value());
    command.set(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10, cns);
    tail = (tail + 1) % ENTRIES;
    bar0.putIntVolatile(NvmeRegisters.submissionTailDoorbell(0, 0), tail);
    long at = (long) slot * NvmeCompletionDescriptor.SIZE;
    DeviceAwait.on(bar0)
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(NvmeCompletion.read(cq.segment(), at)).hasPhase(true));
    bar0.putIntVolatile(NvmeRegisters.completionHeadDoorbell(0, 0), tail);
    return NvmeCompletion.read(cq.segment(), at);
  }

  private DmaBuffer zeroed(long size) {
    DmaBuffer buffer = heap.allocate(size, 4096);
    buffer.segment().fill((byte) 0);
    return buffer;
  }
}
