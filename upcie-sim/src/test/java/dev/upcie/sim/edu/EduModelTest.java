package dev.upcie.sim.edu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.model.DmaDirection;
import dev.upcie.sim.model.DmaFault;
import dev.upcie.sim.model.VirtualTime;
import dev.upcie.sim.trace.TraceEvent;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What only the simulator can show of the edu model: exact virtual timing, DMA faults, the fatal
 * transfer QEMU would abort on, and the trace. What QEMU's device also does is held to it by
 * EduDeviceTest in it-qemu, which runs on both.
 */
class EduModelTest {
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");

  private final SimMachine machine =
      SimMachine.qemuQ35Builder("nvme", "vfio-pci").virtualTime().build();
  private final VirtualTime time = machine.virtualTime();
  private final PciDeviceHandle edu = machine.open(EDU);
  private final Mmio bar0 = edu.bar(0);

  @AfterEach
  void close() {
    edu.close();
    machine.close();
  }

  @Test
  void aTransferCompletesExactlyOneHundredMillisecondsOfVirtualTimeLater() {
    edu.config().enableBusMaster();
    try (DmaHeap heap = edu.dma().withMask(28).heap(4096);
        DmaBuffer buffer = heap.allocate(4096)) {
      buffer.segment().set(ValueLayout.JAVA_LONG, 0, 0x1122_3344_5566_7788L);

      start(buffer.deviceAddress().value(), EduRegisters.BUFFER, 8, 0);
      time.advance(Duration.ofMillis(99));
      assertThat(EduRegisters.DMA_RUN.isSet(bar0.read(EduRegisters.DMA_COMMAND))).isTrue();
      time.advance(Duration.ofMillis(1));
      assertThat(EduRegisters.DMA_RUN.isSet(bar0.read(EduRegisters.DMA_COMMAND))).isFalse();

      start(EduRegisters.BUFFER, buffer.deviceAddress().value() + 8, 8, 1);
      time.advanceToNext();
      assertThat(buffer.segment().get(ValueLayout.JAVA_LONG, 8)).isEqualTo(0x1122_3344_5566_7788L);
      assertThat(time.nanoTime()).isEqualTo(Duration.ofMillis(200).toNanos());
    }
  }

  @Test
  void waitingForTheInterruptMovesVirtualTimeInsteadOfSleeping() {
    edu.config().enableBusMaster();
    edu.interrupts().enable(InterruptMode.MSI, 1);
    try (DmaHeap heap = edu.dma().heap(4096);
        DmaBuffer buffer = heap.allocate(64)) {
      bar0.write(EduRegisters.DMA_SOURCE, buffer.deviceAddress().value());
      bar0.write(EduRegisters.DMA_DESTINATION, EduRegisters.BUFFER);
      bar0.write(EduRegisters.DMA_COUNT, 64);
      bar0.write(
          EduRegisters.DMA_COMMAND,
          EduRegisters.DMA_RUN.mask() | EduRegisters.DMA_INTERRUPT_ON_DONE.mask());

      long started = System.nanoTime();
      assertThat(edu.interrupts().await(0, Duration.ofSeconds(10))).isEqualTo(1);
      assertThat(System.nanoTime() - started).isLessThan(Duration.ofSeconds(1).toNanos());
      assertThat(time.nanoTime()).isEqualTo(Duration.ofMillis(100).toNanos());
      assertThat(edu.interrupts().await(0, Duration.ofSeconds(5))).as("nothing more").isZero();
      assertThat(time.nanoTime()).isEqualTo(Duration.ofMillis(5100).toNanos());
    }
  }

  @Test
  void aTransferToUnmappedMemoryIsAFaultAndTheDeviceCarriesOn() {
    edu.config().enableBusMaster();

    start(0x0800_0000L, EduRegisters.BUFFER, 16, 0);
    time.advanceToNext();

    assertThat(machine.iommu().faults())
        .singleElement()
        .satisfies(fault -> {
          assertThat(fault.device()).isEqualTo(EDU);
          assertThat(fault.address()).isEqualTo(0x0800_0000L);
          assertThat(fault.size()).isEqualTo(16);
          assertThat(fault.direction()).isEqualTo(DmaDirection.READ);
          assertThat(fault.reason()).isEqualTo(DmaFault.Reason.NOT_MAPPED);
        });
    assertThat(EduRegisters.DMA_RUN.isSet(bar0.read(EduRegisters.DMA_COMMAND))).isFalse();
    assertThat(machine.trace().events())
        .extracting(TraceEvent::kind)
        .contains(TraceEvent.Kind.DMA_FAULT);
  }

  @Test
  void withBusMasteringOffNoDmaAndNoMsiReachTheHost() {
    edu.interrupts().enable(InterruptMode.MSI, 1);
    try (DmaHeap heap = edu.dma().heap(4096);
        DmaBuffer buffer = heap.allocate(64)) {
      start(EduRegisters.BUFFER, buffer.deviceAddress().value(), 64, 1);
      bar0.write(EduRegisters.INTERRUPT_RAISE, 1);
      time.advanceToNext();

      assertThat(machine.iommu().faults())
          .extracting(DmaFault::reason)
          .containsExactly(DmaFault.Reason.BUS_MASTER_OFF);
      assertThat(edu.interrupts().drain(0)).as("the MSI, a memory write, was lost").isZero();
    }
  }

  @Test
  void addressesAboveTwentyEightBitsAreClampedAsQemuDoesAndSaidSoInTheTrace() {
    edu.config().enableBusMaster();
    try (DmaHeap heap = edu.dma().withMask(28).heap(4096);
        DmaBuffer buffer = heap.allocate(64)) {
      long address = buffer.deviceAddress().value();
      buffer.segment().set(ValueLayout.JAVA_INT, 0, 0xcafe);

      start((1L << 40) | address, EduRegisters.BUFFER, 4, 0);
      time.advanceToNext();

      assertThat(machine.iommu().faults()).isEmpty();
      assertThat(machine.trace().toString()).contains("EDU: clamping DMA 0x0000010000");
    }
  }

  @Test
  void aTransferOutsideTheBufferWindowKillsTheModelAsItAbortsQemu() {
    edu.config().enableBusMaster();

    start(0x10000, EduRegisters.BUFFER, EduRegisters.BUFFER_SIZE, 0);
    time.advanceToNext();

    assertThat(machine.fatal(EDU))
        .get()
        .asString()
        .contains("out of bounds", "aborts the whole VM");
    assertThat(bar0.read(EduRegisters.ID))
        .as("a dead device reads all ones")
        .isEqualTo(0xffffffffL);
    assertThatThrownBy(edu::interrupts)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(
            "is dead: EDU: DMA range 0x0000000000040000-0x0000000000040fff out of bounds");
    assertThatThrownBy(() -> machine.open(EDU)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void intxIsMaskedWhenDeliveredAndDeliveredAgainOnUnmaskWhileStillAsserted() {
    edu.interrupts().enable(InterruptMode.INTX, 1);

    bar0.write(EduRegisters.INTERRUPT_RAISE, 0x4);
    bar0.write(EduRegisters.INTERRUPT_RAISE, 0x8);
    assertThat(edu.interrupts().drain(0)).as("masked after the first").isEqualTo(1);
    edu.interrupts().unmask(0);
    assertThat(edu.interrupts().drain(0)).as("the line is still up").isEqualTo(1);
    bar0.write(EduRegisters.INTERRUPT_ACK, 0xc);
    edu.interrupts().unmask(0);
    assertThat(edu.interrupts().drain(0)).as("quiet once acknowledged").isZero();
  }

  @Test
  void theFactorialIsComputedLaterInThirtyTwoBitArithmetic() {
    bar0.write(EduRegisters.FACTORIAL, 13);
    assertThat(EduRegisters.STATUS_COMPUTING.isSet(bar0.read(EduRegisters.STATUS))).isTrue();
    bar0.write(EduRegisters.FACTORIAL, 5);

    time.advance(Duration.ZERO);

    assertThat(EduRegisters.STATUS_COMPUTING.isSet(bar0.read(EduRegisters.STATUS))).isFalse();
    assertThat(bar0.read(EduRegisters.FACTORIAL))
        .as("13! mod 2^32; the write while computing was ignored")
        .isEqualTo(6_227_020_800L & 0xffff_ffffL);
  }

  @Test
  void aLargeFactorialAnswersAtOnceWithQemusResult() {
    bar0.write(EduRegisters.FACTORIAL, 0xffff_ffffL);

    assertTimeoutPreemptively(Duration.ofMillis(500), () -> time.advance(Duration.ZERO));
    assertThat(bar0.read(EduRegisters.FACTORIAL)).as("0xffffffff! mod 2^32").isZero();
    bar0.write(EduRegisters.FACTORIAL, 12);
    time.advance(Duration.ZERO);
    assertThat(bar0.read(EduRegisters.FACTORIAL)).isEqualTo(479_001_600L);
  }

  @Test
  void theLongestWaitsStillRunWhatIsDueOnAClockPastZero() {
    edu.config().enableBusMaster();
    edu.interrupts().enable(InterruptMode.MSI, 1);
    time.advance(Duration.ofSeconds(1));
    try (DmaHeap heap = edu.dma().withMask(28).heap(4096);
        DmaBuffer buffer = heap.allocate(64)) {
      long address = buffer.deviceAddress().value();
      bar0.write(EduRegisters.DMA_SOURCE, address);
      bar0.write(EduRegisters.DMA_DESTINATION, EduRegisters.BUFFER);
      bar0.write(EduRegisters.DMA_COUNT, 64);
      bar0.write(
          EduRegisters.DMA_COMMAND,
          EduRegisters.DMA_RUN.mask() | EduRegisters.DMA_INTERRUPT_ON_DONE.mask());
      assertThat(edu.interrupts().await(0, Long.MAX_VALUE)).isEqualTo(1);
      assertThat(time.nanoTime()).isEqualTo(Duration.ofMillis(1100).toNanos());

      start(EduRegisters.BUFFER, address, 64, 1);
      time.advance(Duration.ofNanos(Long.MAX_VALUE));
      assertThat(EduRegisters.DMA_RUN.isSet(bar0.read(EduRegisters.DMA_COMMAND))).isFalse();
      time.advance(Duration.ofSeconds(Long.MAX_VALUE));
      assertThat(time.nanoTime()).as("held at the end of time").isEqualTo(Long.MAX_VALUE);
    }
  }

  private void start(long source, long destination, long count, int direction) {
    bar0.write(EduRegisters.DMA_SOURCE, source);
    bar0.write(EduRegisters.DMA_DESTINATION, destination);
    bar0.write(EduRegisters.DMA_COUNT, count);
    bar0.write(
        EduRegisters.DMA_COMMAND,
        EduRegisters.DMA_TO_HOST.set(EduRegisters.DMA_RUN.mask(), direction));
  }
}
