package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.junit.PciDevice;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.nvme.NvmeOptions;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * QEMU's NVMe controller driven through the device seam: the admin queue pair in DMA memory, one
 * Identify Controller completed, found by polling and by an interrupt (MSI-X through VFIO and on
 * the simulator, INTx through UIO, with the controller's INTMS/INTMC masking as an INTx driver must
 * do it), and an I/O completion queue signalling its own vector.
 */
public class NvmeAdminQueueTest {
  private static final Duration COMPLETION = Duration.ofSeconds(10);

  private static String serial() {
    return System.getProperty(GuestRun.NVME_SERIAL, NvmeOptions.DEFAULT_SERIAL);
  }

  /**
   * With MSI-X, each completion queue signals the vector it was created with: an I/O queue on
   * vector 1 interrupts there, not on the admin queue's vector 0. With INTx (UIO) every queue
   * shares the one line, vector 0.
   */
  @Test
  void eachCompletionQueueSignalsItsOwnVector(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    Interrupts irqs = nvme.interrupts();
    InterruptMode mode = irqs.modes().get(0);
    int vector = mode == InterruptMode.MSIX ? 1 : 0;
    irqs.enable(mode, vector + 1);
    try (RawNvme controller = new RawNvme(nvme, 8)) {
      Mmio bar0 = nvme.bar(0);
      RawNvme.Queue io = controller.new Queue(1, 4, 4);
      RawNvme.Completion cq =
          controller.admin(
              RawNvme.Command.of(NvmeOpcodes.ADMIN_CREATE_CQ)
                  .prp1(io.completions.deviceAddress().value())
                  .cdw(10, 1 | 3 << 16)
                  .cdw(11, 0x3 | vector << 16));
      assertThat(cq.status()).as("Create I/O CQ on vector %d: %s", vector, cq).isZero();
      RawNvme.Completion sq =
          controller.admin(
              RawNvme.Command.of(NvmeOpcodes.ADMIN_CREATE_SQ)
                  .prp1(io.submissions.deviceAddress().value())
                  .cdw(10, 1 | 3 << 16)
                  .cdw(11, 0x1 | 1 << 16));
      assertThat(sq.status()).isZero();
      // The admin completions above may have signalled; start from quiet vectors.
      drain(irqs, bar0, mode, vector);

      io.submit(RawNvme.Command.of(NvmeOpcodes.IO_FLUSH).nsid(1));

      assertThat(irqs.await(vector, COMPLETION))
          .as("the I/O completion queue's vector %d", vector)
          .isPositive();
      assertThat(io.next().status()).isZero();
      if (mode == InterruptMode.MSIX) {
        assertThat(irqs.await(0, Duration.ofMillis(200))).as("nothing on vector 0").isZero();
      }
    } finally {
      irqs.disable();
    }
  }

  private static void drain(Interrupts irqs, Mmio bar0, InterruptMode mode, int vector) {
    for (int v = 0; v <= vector; v++) {
      irqs.await(v, Duration.ofMillis(200));
    }
    if (mode == InterruptMode.INTX) {
      irqs.unmask(0);
    }
  }

  @Test
  void offersMsixThroughVfioAndIntxThroughUio(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    Interrupts irqs = nvme.interrupts();

    assertThat(irqs.vectors(InterruptMode.MSIX))
        .as("QEMU's msix_qsize, 65, through VFIO and on the simulator; none through UIO")
        .isEqualTo(GuestRun.backend().equals("uio") ? 0 : 65);
    assertThat(irqs.vectors(InterruptMode.MSI)).as("QEMU's controller has no MSI").isZero();
    assertThat(irqs.vectors(InterruptMode.INTX)).isEqualTo(1);
  }

  @Test
  void identifyControllerCompletesAndIsFoundByPolling(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (RawNvme controller = new RawNvme(nvme, 2)) {
      DmaBuffer data = controller.buffer(4096);
      int cid = controller.admin.submit(identifyController(data));

      // The queues are confined to this thread, as DMA buffers are by default: poll here.
      RawNvme.Completion done = controller.admin.next();
      assertThat(done.status()).as("status").isZero();
      assertThat(done.cid()).as("command id").isEqualTo(cid);
      assertThat(serialNumber(data)).isEqualTo(serial());
    }
  }

  @Test
  void identifyControllerCompletesAndSignalsAnInterrupt(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    Interrupts irqs = nvme.interrupts();
    InterruptMode mode = irqs.modes().get(0);
    assertThat(mode)
        .as("the best mode the backend offers")
        .isEqualTo(GuestRun.backend().equals("uio") ? InterruptMode.INTX : InterruptMode.MSIX);
    irqs.enable(mode, 1);
    try (RawNvme controller = new RawNvme(nvme, 2)) {
      Mmio bar0 = nvme.bar(0);
      DmaBuffer data = controller.buffer(4096);
      bar0.write(NvmeRegisters.INTMC, 1);
      controller.admin.submit(identifyController(data));

      assertThat(irqs.await(0, COMPLETION)).as("interrupts on vector 0").isPositive();
      if (mode == InterruptMode.INTX) {
        // An INTx driver masks the vector at the controller while it works the queue.
        bar0.write(NvmeRegisters.INTMS, 1);
      }
      RawNvme.Completion done =
          controller.admin.peek().orElseThrow(() -> new AssertionError("no completion yet"));
      assertThat(done.status()).as("the completion is there when the interrupt is").isZero();
      assertThat(serialNumber(data)).isEqualTo(serial());
      controller.admin.consume();
      if (mode == InterruptMode.INTX) {
        bar0.write(NvmeRegisters.INTMC, 1);
        irqs.unmask(0);
      }
      assertThat(irqs.await(0, Duration.ofMillis(200)))
          .as("no further interrupt once the queue is empty")
          .isZero();
    } finally {
      irqs.disable();
    }
  }

  private static RawNvme.Command identifyController(DmaBuffer data) {
    return RawNvme.Command.of(NvmeOpcodes.ADMIN_IDENTIFY)
        .prp1(data.deviceAddress().value())
        .cdw(10, 1);
  }

  /** The serial number in Identify Controller data: bytes 4 to 23, ASCII, space-padded. */
  private static String serialNumber(DmaBuffer data) {
    byte[] serial = data.segment().asSlice(4, 20).toArray(ValueLayout.JAVA_BYTE);
    return new String(serial, StandardCharsets.US_ASCII).strip();
  }
}
