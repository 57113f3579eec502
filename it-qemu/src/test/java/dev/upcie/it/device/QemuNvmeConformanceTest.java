package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertAll;

import dev.upcie.junit.PciDevice;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciConfigRegisters;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.nvme.NvmeModel;
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
        .isEqualTo(NvmeModel.QEMU_CAP);
    assertThat(bar0.getIntVolatile(NvmeRegisters.VS.offset()))
        .as("VS")
        .isEqualTo(NvmeModel.QEMU_VS);
    assertThat(bar0.size()).as("BAR0 size").isEqualTo(NvmeModel.BAR0_SIZE);
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
      // assertAll reports every mismatch; AssertJ's soft assertions would do the same, but their
      // proxies take seconds to generate in the TCG guest.
      assertAll(
          () ->
              assertThat(bar0.getIntVolatile(NvmeRegisters.CC.offset()))
                  .as("CC")
                  .isEqualTo(0xffff3ffe),
          () ->
              assertThat(bar0.getIntVolatile(NvmeRegisters.AQA.offset()))
                  .as("AQA")
                  .isEqualTo(0xffffffff),
          () ->
              assertThat(bar0.getLongVolatile(NvmeRegisters.ASQ.offset()))
                  .as("ASQ")
                  .isEqualTo(0xfedcba9876543fffL),
          () ->
              assertThat(bar0.getLongVolatile(NvmeRegisters.ACQ.offset()))
                  .as("ACQ")
                  .isEqualTo(0x0123456789abcfffL),
          () ->
              assertThat(bar0.getIntVolatile(NvmeRegisters.CSTS.offset()))
                  .as("CSTS, untouched")
                  .isZero());
    } finally {
      bar0.putIntVolatile(NvmeRegisters.CC.offset(), 0);
      bar0.putIntVolatile(NvmeRegisters.AQA.offset(), 0);
      bar0.putLongVolatile(NvmeRegisters.ASQ.offset(), 0);
      bar0.putLongVolatile(NvmeRegisters.ACQ.offset(), 0);
    }
  }

  /**
   * The configuration space QEMU 7.2's {@code nvme_init_pci} builds: a PCI Express function (4096
   * bytes) with MSI-X at 0x40, the PCI Express capability at 0x80 (function-level reset) and power
   * management at 0x60, in that list order, and no extended capabilities.
   */
  /**
   * CC.EN as QEMU 7.2's {@code nvme_start_ctrl} checks it: each refusal is controller fatal status
   * alone; a valid start is ready at once; a shutdown notification completes at once; clearing EN
   * resets CC and CSTS but keeps the admin queue registers. No queue is ever used (no doorbell is
   * written), so the queue addresses need no memory behind them.
   */
  @Test
  void enablingIsValidatedAsQemuDoesAndDisablingResets(
      @PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    Mmio bar0 = qemuNvme.bar(0);
    int entrySizes = 6 << 16 | 4 << 20; // IOSQES 64 bytes, IOCQES 16 bytes
    try {
      admin(bar0, 0x001f001f, 0x100000, 0x200000);
      assertThat(enable(bar0, entrySizes)).as("valid: ready").isEqualTo(0x1);
      bar0.putIntVolatile(NvmeRegisters.CC.offset(), entrySizes | 1 | 1 << 14);
      assertThat(bar0.getIntVolatile(NvmeRegisters.CSTS.offset()))
          .as("normal shutdown notification: ready, shutdown complete")
          .isEqualTo(0x9);
      bar0.putIntVolatile(NvmeRegisters.CC.offset(), entrySizes | 1);
      assertThat(bar0.getIntVolatile(NvmeRegisters.CSTS.offset()))
          .as("notification cleared")
          .isEqualTo(0x1);
      bar0.putIntVolatile(NvmeRegisters.CC.offset(), entrySizes);
      assertAll(
          () -> assertThat(bar0.getIntVolatile(NvmeRegisters.CSTS.offset())).isZero(),
          () ->
              assertThat(bar0.getIntVolatile(NvmeRegisters.CC.offset()))
                  .as("the reset clears CC, entry sizes included")
                  .isZero(),
          () ->
              assertThat(bar0.getIntVolatile(NvmeRegisters.AQA.offset()))
                  .as("AQA kept")
                  .isEqualTo(0x001f001f));

      admin(bar0, 0x001f001f, 0x100800, 0x200000);
      assertThat(enable(bar0, entrySizes)).as("ASQ not page-aligned: fatal").isEqualTo(0x2);
      disable(bar0);
      admin(bar0, 0x001f0000, 0x100000, 0x200000);
      assertThat(enable(bar0, entrySizes)).as("admin SQ of one entry: fatal").isEqualTo(0x2);
      disable(bar0);
      admin(bar0, 0x001f001f, 0x100000, 0x200000);
      assertThat(enable(bar0, 4 << 16 | 4 << 20)).as("16-byte SQ entries: fatal").isEqualTo(0x2);
      disable(bar0);
      assertThat(enable(bar0, entrySizes | 5 << 7)).as("128 KiB pages: fatal").isEqualTo(0x2);
      disable(bar0);
      assertThat(enable(bar0, entrySizes | 1 << 4)).as("command set 1: fatal").isEqualTo(0x2);
      disable(bar0);
      assertThat(enable(bar0, entrySizes | 7 << 4)).as("admin only: ready").isEqualTo(0x1);
    } finally {
      disable(bar0);
      admin(bar0, 0, 0, 0);
    }
  }

  private static void admin(Mmio bar0, int aqa, long asq, long acq) {
    bar0.putIntVolatile(NvmeRegisters.AQA.offset(), aqa);
    bar0.putLongVolatile(NvmeRegisters.ASQ.offset(), asq);
    bar0.putLongVolatile(NvmeRegisters.ACQ.offset(), acq);
  }

  /** Sets CC to {@code cc} with EN; returns CSTS right after (QEMU decides on the write). */
  private static int enable(Mmio bar0, int cc) {
    bar0.putIntVolatile(NvmeRegisters.CC.offset(), cc | 1);
    return bar0.getIntVolatile(NvmeRegisters.CSTS.offset());
  }

  private static void disable(Mmio bar0) {
    bar0.putIntVolatile(NvmeRegisters.CC.offset(), 0);
    assertThat(bar0.getIntVolatile(NvmeRegisters.CSTS.offset())).as("CSTS after reset").isZero();
  }

  @Test
  void configSpaceIsQemus(@PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    ConfigSpace config = qemuNvme.config();

    assertThat(config.size()).isEqualTo(4096);
    assertThat(config.read(PciConfigRegisters.VENDOR_ID)).isEqualTo(0x1b36);
    assertThat(config.read(PciConfigRegisters.DEVICE_ID)).isEqualTo(0x0010);
    assertThat(config.read32(0x08) >>> 8).as("class code").isEqualTo(0x010802);
    assertThat(config.read(PciConfigRegisters.REVISION_ID)).isEqualTo(2);
    assertThat(config.read(PciConfigRegisters.SUBSYSTEM_VENDOR_ID)).isEqualTo(0x1af4);
    assertThat(config.read(PciConfigRegisters.HEADER_TYPE) & 0x7f).as("type 0").isZero();
    assertThat(config.read(PciConfigRegisters.INTERRUPT_PIN)).as("INTA#").isEqualTo(1);
    assertThat(config.capabilities())
        .extracting(PciCapability::toString)
        .containsExactly("MSI-X@0x40", "PCIe@0x80", "PM@0x60");
    assertThat(config.extendedCapabilities()).isEmpty();
    int express = config.capability(PciCapability.PCI_EXPRESS).orElseThrow().offset();
    assertThat(config.read32(express + 4) & (1 << 28))
        .as("DEVCAP: function-level reset")
        .isNotZero();
    assertThat(qemuNvme.canReset()).as("a function-level reset is a reset method").isTrue();
  }

  @Test
  void busMasteringCanBeTurnedOnAndOff(@PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    ConfigSpace config = qemuNvme.config();
    boolean before = config.isBusMaster();
    try {
      config.enableBusMaster();
      assertThat(config.isBusMaster()).isTrue();
      assertThat(config.isMemoryEnabled()).as("memory decoding, untouched").isTrue();
      config.disableBusMaster();
      assertThat(config.isBusMaster()).isFalse();
      assertThat(config.isMemoryEnabled()).isTrue();
    } finally {
      if (before) {
        config.enableBusMaster();
      }
    }
  }

  /**
   * A function-level reset as QEMU 7.2 does it ({@code nvme_ctrl_reset}): CC back to 0, while AQA
   * keeps what the host wrote.
   */
  @Test
  void resetClearsTheConfigurationAndKeepsTheAdminQueueAttributes(
      @PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    Mmio bar0 = qemuNvme.bar(0);
    try {
      bar0.write(NvmeRegisters.AQA, 0x001f001f);
      bar0.write(NvmeRegisters.CC, 0x00460000);

      qemuNvme.reset();

      assertThat(bar0.read(NvmeRegisters.CC)).as("CC").isZero();
      assertThat(bar0.read(NvmeRegisters.AQA)).as("AQA").isEqualTo(0x001f001f);
      assertThat(bar0.read(NvmeRegisters.CAP)).as("CAP").isEqualTo(NvmeModel.QEMU_CAP);
    } finally {
      bar0.write(NvmeRegisters.AQA, 0);
      bar0.write(NvmeRegisters.CC, 0);
    }
  }

  @Test
  void identityIsQemus(@PciDevice(id = "1b36:0010") PciDeviceHandle qemuNvme) {
    assertThat(qemuNvme.function().classCode().value()).isEqualTo(0x010802);
    assertThat(qemuNvme.function().revision()).isEqualTo(2);
    assertThat(qemuNvme.function().subsystem().vendor()).isEqualTo(0x1af4);
  }
}
