package dev.upcie.it.device;

import static dev.upcie.sim.edu.EduRegisters.DMA_COMMAND;
import static dev.upcie.sim.edu.EduRegisters.DMA_COUNT;
import static dev.upcie.sim.edu.EduRegisters.DMA_DESTINATION;
import static dev.upcie.sim.edu.EduRegisters.DMA_SOURCE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.upcie.dma.DmaSpace;
import dev.upcie.dma.IovaRange;
import dev.upcie.hugepages.PageSize;
import dev.upcie.hugepages.RealHugepages;
import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.junit.PciDevice;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.memory.HugepageRegion;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciConfigRegisters;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.edu.EduRegisters;
import dev.upcie.support.NotSupportedException;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * QEMU 7.2's {@code edu} device through the device seam: identity, liveness, the factorial unit,
 * the DMA engine to and from host memory, and its interrupts through the interrupt API (MSI on
 * VFIO, INTx on UIO).
 *
 * <p>The conformance suite of the simulator's {@code EduModel}: it runs on the model on the host
 * (sim, the default backend) and on QEMU's device in both guests (vfio with the IOMMU, uio
 * without), through the device seam only. Where the two differ, the model is wrong. The DMA tests
 * map real 2M hugepages on node 0 everywhere (below edu's 28-bit reach in the UIO guest), so the
 * host reserves a few for the simulator's run.
 */
public class EduDeviceTest {
  private static final PageSize TWO_MB = PageSize.parse("2M");
  private static RealHugepages hugepages;

  @BeforeAll
  static void reserveHugepages() {
    hugepages = RealHugepages.require().ensureAvailable(TWO_MB, 4);
  }

  @AfterAll
  static void restoreHugepages() {
    if (hugepages != null) {
      hugepages.close();
    }
  }

  private static boolean physical() {
    return GuestRun.backend().equals("uio");
  }

  // A transfer completes about 100 ms of virtual time after the command; TCG stretches that.
  private static final Duration TRANSFER = Duration.ofSeconds(10);

  @Test
  void identifiesItselfAndAnswersTheLivenessCheck(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    Mmio bar0 = edu.bar(0);

    assertThat(bar0.read(EduRegisters.ID)).as("ID: version 1.0, 0xed").isEqualTo(0x010000edL);
    bar0.write(EduRegisters.LIVENESS, 0x12345678);
    assertThat(bar0.read(EduRegisters.LIVENESS)).isEqualTo(~0x12345678 & 0xffffffffL);
    assertThat(bar0.size()).isEqualTo(EduRegisters.BAR0_SIZE);
    assertThat(edu.config().size()).as("conventional PCI").isEqualTo(256);
    assertThat(edu.config().read(PciConfigRegisters.INTERRUPT_PIN)).isEqualTo(1);
    assertThat(edu.config().capabilities())
        .containsExactly(new PciCapability(PciCapability.MSI, 0x40, false, 0));
  }

  /**
   * QEMU's edu decodes 32-bit accesses below 0x80 and 32 or 64-bit ones at the DMA registers'
   * offsets; everything else reads all ones and ignores writes, and a 32-bit write to a DMA
   * register zero-extends.
   */
  @Test
  void decodesOnlyTheWidthsAndOffsetsQemuDecodes(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    Mmio bar0 = edu.bar(0);

    assertThat(bar0.getLongVolatile(EduRegisters.ID.offset())).as("64-bit ID").isEqualTo(-1L);
    assertThat(bar0.getIntVolatile(0x0c)).as("nothing at 0x0c").isEqualTo(-1);
    assertThat(bar0.getIntVolatile(0x80000)).as("deep in the BAR").isEqualTo(-1);
    assertThat(bar0.getIntVolatile(EduRegisters.INTERRUPT_RAISE.offset()))
        .as("write-only raise")
        .isEqualTo(-1);
    bar0.write(EduRegisters.LIVENESS, 0x0f0f0f0f);
    bar0.putLongVolatile(EduRegisters.ID.offset(), 0); // spans ID and LIVENESS
    assertThat(bar0.read(EduRegisters.LIVENESS)).as("64-bit writes ignored").isEqualTo(0xf0f0f0f0L);

    bar0.write(DMA_SOURCE, 0x1234_5678_9abc_def0L);
    assertThat(bar0.read(DMA_SOURCE)).isEqualTo(0x1234_5678_9abc_def0L);
    assertThat(bar0.getIntVolatile(DMA_SOURCE.offset())).as("low half").isEqualTo(0x9abc_def0);
    assertThat(bar0.getIntVolatile(DMA_SOURCE.offset() + 4)).as("upper half").isEqualTo(-1);
    bar0.putIntVolatile(DMA_SOURCE.offset(), 0x40000);
    assertThat(bar0.read(DMA_SOURCE)).as("zero-extended").isEqualTo(0x40000);
    bar0.putIntVolatile(DMA_SOURCE.offset() + 4, 0x1);
    assertThat(bar0.read(DMA_SOURCE)).as("upper-half write ignored").isEqualTo(0x40000);
  }

  @Test
  void computesAFactorialAndRaisesItsInterruptCause(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    Mmio bar0 = edu.bar(0);
    bar0.write(EduRegisters.STATUS, EduRegisters.STATUS_INTERRUPT_ON_FACTORIAL.set(0, 1));
    try {
      bar0.write(EduRegisters.FACTORIAL, 10);

      await("STATUS.COMPUTING clear")
          .atMost(TRANSFER)
          .until(() -> !EduRegisters.STATUS_COMPUTING.isSet(bar0.read(EduRegisters.STATUS)));
      assertThat(bar0.read(EduRegisters.FACTORIAL)).isEqualTo(3_628_800);
      assertThat(bar0.read(EduRegisters.INTERRUPT_STATUS))
          .as("the factorial's interrupt cause")
          .isEqualTo(EduRegisters.FACTORIAL_INTERRUPT);
    } finally {
      bar0.write(EduRegisters.INTERRUPT_ACK, EduRegisters.FACTORIAL_INTERRUPT);
      bar0.write(EduRegisters.STATUS, 0);
    }
    assertThat(bar0.read(EduRegisters.INTERRUPT_STATUS)).as("acknowledged").isZero();
  }

  @Test
  void copiesABufferToTheDeviceAndBackThroughItsDmaEngine(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    edu.config().enableBusMaster();
    Mmio bar0 = edu.bar(0);
    DmaSpace dma = edu.dma().withMask(EduRegisters.DMA_MASK_BITS);
    // Node 0 lies below edu's 28-bit mask in the UIO guest (and is the only node in the other).
    try (DmaHeap heap = dma.heap(HugepageRegion.allocate(TWO_MB.bytes(), TWO_MB, 0));
        DmaBuffer out = heap.allocate(EduRegisters.BUFFER_SIZE);
        DmaBuffer in = heap.allocate(EduRegisters.BUFFER_SIZE)) {
      for (int i = 0; i < EduRegisters.BUFFER_SIZE / 8; i++) {
        out.segment().setAtIndex(ValueLayout.JAVA_LONG, i, 0x0123_4567_89ab_cdefL * (i + 1));
      }
      in.segment().fill((byte) 0);
      assertThat(out.deviceAddress().value()).isLessThan(1L << EduRegisters.DMA_MASK_BITS);

      transfer(bar0, out.deviceAddress().value(), EduRegisters.BUFFER, 0);
      transfer(bar0, EduRegisters.BUFFER, in.deviceAddress().value(), 1);

      int copied = EduRegisters.MAX_TRANSFER;
      assertThat(in.segment().asSlice(0, copied).mismatch(out.segment().asSlice(0, copied)))
          .as("first differing byte of the %d copied", copied)
          .isEqualTo(-1);
      assertThat(in.segment().get(ValueLayout.JAVA_BYTE, copied)).as("the byte after").isZero();
    }
  }

  @Test
  void signalsTheEndOfATransferThroughTheInterruptApi(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    edu.config().enableBusMaster();
    Interrupts irqs = edu.interrupts();
    InterruptMode mode = irqs.modes().get(0);
    assertThat(mode)
        .as("the best mode the backend offers")
        .isEqualTo(physical() ? InterruptMode.INTX : InterruptMode.MSI);
    Mmio bar0 = edu.bar(0);
    irqs.enable(mode, 1);
    try (DmaHeap heap =
            edu.dma()
                .withMask(EduRegisters.DMA_MASK_BITS)
                .heap(HugepageRegion.allocate(TWO_MB.bytes(), TWO_MB, 0));
        DmaBuffer buffer = heap.allocate(EduRegisters.BUFFER_SIZE)) {
      bar0.write(DMA_SOURCE, buffer.deviceAddress().value());
      bar0.write(DMA_DESTINATION, EduRegisters.BUFFER);
      bar0.write(DMA_COUNT, EduRegisters.MAX_TRANSFER);
      bar0.write(
          DMA_COMMAND, EduRegisters.DMA_RUN.mask() | EduRegisters.DMA_INTERRUPT_ON_DONE.mask());

      assertThat(irqs.await(0, TRANSFER)).as("interrupts on vector 0").isPositive();
      assertThat(bar0.read(EduRegisters.INTERRUPT_STATUS) & EduRegisters.DMA_INTERRUPT)
          .as("the cause is the finished transfer")
          .isEqualTo(EduRegisters.DMA_INTERRUPT);
      assertThat(EduRegisters.DMA_RUN.isSet(bar0.read(DMA_COMMAND))).isFalse();
      acknowledge(irqs, bar0, EduRegisters.DMA_INTERRUPT);

      bar0.write(EduRegisters.INTERRUPT_RAISE, 0x8000);
      assertThat(irqs.await(0, TRANSFER)).as("an interrupt the driver raised").isPositive();
      acknowledge(irqs, bar0, 0x8000);
      assertThat(irqs.await(0, Duration.ofMillis(200))).as("nothing more").isZero();
    } finally {
      irqs.disable();
    }
  }

  /**
   * Every mode the backend offers delivers, is unmasked and is disabled again: MSI and INTx through
   * VFIO (INTx there is masked by the kernel on each interrupt and unmasked through the ioctl),
   * INTx through UIO. edu signals INTx whenever MSI is off.
   */
  @Test
  void raisesAnInterruptInEveryModeTheBackendOffers(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    edu.config().enableBusMaster(); // an MSI is a memory write by the device
    Interrupts irqs = edu.interrupts();
    Mmio bar0 = edu.bar(0);
    assertThat(irqs.modes())
        .isEqualTo(
            physical()
                ? List.of(InterruptMode.INTX)
                : List.of(InterruptMode.MSI, InterruptMode.INTX));
    for (InterruptMode mode : irqs.modes()) {
      irqs.enable(mode, 1);
      try {
        for (int round = 0; round < 2; round++) {
          bar0.write(EduRegisters.INTERRUPT_RAISE, 0x100);
          assertThat(irqs.await(0, TRANSFER)).as("%s, round %d", mode, round).isPositive();
          acknowledge(irqs, bar0, 0x100);
        }
        assertThat(irqs.await(0, Duration.ofMillis(200))).as("%s: nothing more", mode).isZero();
      } finally {
        irqs.disable();
      }
      assertThat(irqs.enabledVectors()).as("%s disabled", mode).isZero();
    }
  }

  @Test
  void refusesInterruptModesItLacksAndHasNoResetMethod(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    assertThatThrownBy(() -> edu.interrupts().enable(InterruptMode.MSIX, 1))
        .isInstanceOf(NotSupportedException.class)
        .hasMessageContaining("offers no MSI-X interrupts");
    assertThat(edu.canReset()).isFalse();
    assertThatThrownBy(edu::reset)
        .isInstanceOf(NotSupportedException.class)
        .hasMessageContaining("has no reset method");
  }

  @Test
  void handsOutOnlyAddressesBelowTheDeclaredMask(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    DmaSpace dma = edu.dma().withMask(EduRegisters.DMA_MASK_BITS);

    assertThat(dma.maskBits()).isEqualTo(28);
    assertThat(dma.translated()).isEqualTo(!physical());
    assertThat(dma.ranges())
        .isNotEmpty()
        .allSatisfy(range -> assertThat(range.last()).isLessThan(1L << 28));
    assertThat(edu.dma().ranges())
        .extracting(IovaRange::last)
        .anySatisfy(last -> assertThat(last).isGreaterThanOrEqualTo(1L << 28));
  }

  /** Runs one transfer ({@code direction} 0: to the device, 1: to the host) and waits for it. */
  private static void transfer(Mmio bar0, long source, long destination, int direction) {
    bar0.write(DMA_SOURCE, source);
    bar0.write(DMA_DESTINATION, destination);
    bar0.write(DMA_COUNT, EduRegisters.MAX_TRANSFER);
    bar0.write(DMA_COMMAND, EduRegisters.DMA_TO_HOST.set(EduRegisters.DMA_RUN.mask(), direction));
    await("DMA_COMMAND.RUN clear")
        .atMost(TRANSFER)
        .until(() -> !EduRegisters.DMA_RUN.isSet(bar0.read(DMA_COMMAND)));
  }

  /** Clears the cause at the device, then re-enables a masked INTx line. */
  private static void acknowledge(Interrupts irqs, Mmio bar0, int cause) {
    bar0.write(EduRegisters.INTERRUPT_ACK, cause);
    irqs.unmask(0);
  }
}
