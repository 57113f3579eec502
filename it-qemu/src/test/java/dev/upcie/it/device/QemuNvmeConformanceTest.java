package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.junit.PciDevice;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.nvme.SimNvmeController;
import org.junit.jupiter.api.Test;

/**
 * The simulated controller against QEMU's: the same reset-state registers. On the simulator this
 * checks the model's constants; in the QEMU guest it checks that they are QEMU's. Where the two
 * differ, the model is wrong.
 */
public class QemuNvmeConformanceTest {
  @Test
  void resetStateRegistersAreQemus(@PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    Mmio bar0 = qemuNvme.bar(0);

    assertThat(bar0.getLongVolatile(NvmeRegisters.CAP))
        .as("CAP")
        .isEqualTo(SimNvmeController.QEMU_CAP);
    assertThat(bar0.getIntVolatile(NvmeRegisters.VS)).as("VS").isEqualTo(SimNvmeController.QEMU_VS);
    assertThat(bar0.size()).as("BAR0 size").isEqualTo(SimNvmeController.BAR0_SIZE);
  }

  @Test
  void identityIsQemus(@PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    assertThat(qemuNvme.function().classCode().value()).isEqualTo(0x010802);
    assertThat(qemuNvme.function().revision()).isEqualTo(2);
    assertThat(qemuNvme.function().subsystem().vendor()).isEqualTo(0x1af4);
  }
}
