package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.junit.PciDevice;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciDeviceHandle;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * QEMU's NVMe controller driven through the device seam: the admin queue pair in DMA memory, one
 * Identify Controller completed, found by polling and by an interrupt (MSI-X through VFIO, INTx
 * through UIO, with the controller's INTMS/INTMC masking as an INTx driver must do it).
 *
 * <p>Guest only: the simulated controller executes no commands yet and the simulator has no DMA or
 * interrupts; the simulator's NVMe model grows them in later work, and then this runs there too.
 */
@Tag(GuestRun.GUEST_ONLY)
@ExtendWith(ResourceHygiene.class)
public class NvmeAdminQueueTest {
  private static final Duration COMPLETION = Duration.ofSeconds(10);

  @Test
  void offersMsixThroughVfioAndIntxThroughUio(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    Interrupts irqs = nvme.interrupts();

    assertThat(irqs.vectors(InterruptMode.MSIX))
        .as("QEMU's msix_qsize, 65, through VFIO; none through uio_pci_generic")
        .isEqualTo(GuestRun.backend().equals("vfio") ? 65 : 0);
    assertThat(irqs.vectors(InterruptMode.MSI)).as("QEMU's controller has no MSI").isZero();
    assertThat(irqs.vectors(InterruptMode.INTX)).isEqualTo(1);
  }

  @Test
  void identifyControllerCompletesAndIsFoundByPolling(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    try (AdminQueue admin = new AdminQueue(nvme)) {
      admin.submit(AdminQueue.IDENTIFY, AdminQueue.CNS_CONTROLLER);

      // The queues are confined to this thread, as DMA buffers are by default: poll here.
      await("the completion's phase bit")
          .pollInSameThread()
          .atMost(COMPLETION)
          .until(admin::completed);
      assertThat(admin.completedStatus()).as("status").isZero();
      assertThat(admin.completedId()).as("command id").isEqualTo(0x55);
      assertThat(admin.serialNumber()).isEqualTo(System.getProperty(GuestRun.NVME_SERIAL));
      admin.consume();
    }
  }

  @Test
  void identifyControllerCompletesAndSignalsAnInterrupt(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    Interrupts irqs = nvme.interrupts();
    InterruptMode mode = irqs.modes().get(0);
    assertThat(mode)
        .as("the best mode the backend offers")
        .isEqualTo(GuestRun.backend().equals("vfio") ? InterruptMode.MSIX : InterruptMode.INTX);
    irqs.enable(mode, 1);
    try (AdminQueue admin = new AdminQueue(nvme)) {
      Mmio bar0 = nvme.bar(0);
      bar0.write(NvmeRegisters.INTMC, 1);
      admin.submit(AdminQueue.IDENTIFY, AdminQueue.CNS_CONTROLLER);

      assertThat(irqs.await(0, COMPLETION)).as("interrupts on vector 0").isPositive();
      if (mode == InterruptMode.INTX) {
        // An INTx driver masks the vector at the controller while it works the queue.
        bar0.write(NvmeRegisters.INTMS, 1);
      }
      assertThat(admin.completed()).as("the completion is there when the interrupt is").isTrue();
      assertThat(admin.completedStatus()).isZero();
      assertThat(admin.serialNumber()).isEqualTo(System.getProperty(GuestRun.NVME_SERIAL));
      admin.consume();
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
}
