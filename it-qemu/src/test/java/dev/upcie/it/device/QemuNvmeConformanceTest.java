package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.junit.PciDevice;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.nvme.SimNvmeController;
import org.assertj.core.api.SoftAssertions;
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

    assertThat(bar0.getLongVolatile(NvmeRegisters.CAP.offset()))
        .as("CAP")
        .isEqualTo(SimNvmeController.QEMU_CAP);
    assertThat(bar0.getIntVolatile(NvmeRegisters.VS.offset()))
        .as("VS")
        .isEqualTo(SimNvmeController.QEMU_VS);
    assertThat(bar0.size()).as("BAR0 size").isEqualTo(SimNvmeController.BAR0_SIZE);
  }

  /**
   * Writes with reserved bits set read back as QEMU keeps them. CC.EN and CC.SHN stay 0, so the
   * controller neither starts nor shuts down; everything is put back to 0 afterwards.
   */
  @Test
  void registerWritesKeepWhatQemuKeeps(@PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    Mmio bar0 = qemuNvme.bar(0);
    try {
      bar0.putIntVolatile(NvmeRegisters.CC.offset(), 0xffff3ffe);
      bar0.putIntVolatile(NvmeRegisters.AQA.offset(), 0xffffffff);
      bar0.putLongVolatile(NvmeRegisters.ASQ.offset(), 0xfedcba9876543fffL);
      bar0.putLongVolatile(NvmeRegisters.ACQ.offset(), 0x0123456789abcfffL);

      // QEMU 7.2 stores these as written, reserved bits included, and validates at CC.EN.
      SoftAssertions.assertSoftly(soft -> {
        soft.assertThat(bar0.getIntVolatile(NvmeRegisters.CC.offset()))
            .as("CC")
            .isEqualTo(0xffff3ffe);
        soft.assertThat(bar0.getIntVolatile(NvmeRegisters.AQA.offset()))
            .as("AQA")
            .isEqualTo(0xffffffff);
        soft.assertThat(bar0.getLongVolatile(NvmeRegisters.ASQ.offset()))
            .as("ASQ")
            .isEqualTo(0xfedcba9876543fffL);
        soft.assertThat(bar0.getLongVolatile(NvmeRegisters.ACQ.offset()))
            .as("ACQ")
            .isEqualTo(0x0123456789abcfffL);
        soft.assertThat(bar0.getIntVolatile(NvmeRegisters.CSTS.offset()))
            .as("CSTS, untouched")
            .isZero();
      });
    } finally {
      bar0.putIntVolatile(NvmeRegisters.CC.offset(), 0);
      bar0.putIntVolatile(NvmeRegisters.AQA.offset(), 0);
      bar0.putLongVolatile(NvmeRegisters.ASQ.offset(), 0);
      bar0.putLongVolatile(NvmeRegisters.ACQ.offset(), 0);
    }
  }

  @Test
  void identityIsQemus(@PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    assertThat(qemuNvme.function().classCode().value()).isEqualTo(0x010802);
    assertThat(qemuNvme.function().revision()).isEqualTo(2);
    assertThat(qemuNvme.function().subsystem().vendor()).isEqualTo(0x1af4);
  }
}
