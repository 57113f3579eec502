package dev.upcie.sim.nvme;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.sim.SimDevice;
import dev.upcie.sim.mmio.RegisterAccess;
import dev.upcie.sim.mmio.RegisterFile;
import java.util.Optional;

/**
 * A simulated NVMe controller, modelled on QEMU 7.2's {@code nvme} device: BAR0 with the controller
 * registers and the values QEMU reports.
 *
 * <p>This first model carries the register block: CAP and VS as QEMU reports them, CSTS read-only
 * and clear, and CC, AQA, ASQ and ACQ storing what the host writes, reserved bits included, as QEMU
 * 7.2 does (it validates them when CC.EN is set, not on the write; the it-qemu conformance test
 * checks this against QEMU). Enabling the controller (CSTS.RDY following CC.EN, with QEMU's
 * validation) arrives with the full model.
 */
public final class SimNvmeController implements SimDevice {
  /** PCI vendor:device of QEMU's NVMe controller (Red Hat, QEMU NVM Express). */
  public static final int VENDOR = 0x1b36;

  /** The device id of QEMU's NVMe controller. */
  public static final int DEVICE = 0x0010;

  /**
   * CAP of QEMU 7.2: MQES 2047, CQR, TO 15 (7.5 s), DSTRD 0, CSS 0xc1 (NVM command set, I/O command
   * sets, admin-only), MPSMIN 4 KiB, MPSMAX 64 KiB. Checked against QEMU in the guest by the
   * it-qemu conformance tests.
   */
  public static final long QEMU_CAP = 0x004018200f0107ffL;

  /** VS of QEMU 7.2: NVMe 1.4.0. */
  public static final int QEMU_VS = 0x00010400;

  /** BAR0 of QEMU's controller: registers, doorbells and the MSI-X table. */
  public static final long BAR0_SIZE = 16 * 1024;

  private final RegisterFile bar0;

  /** A controller in its reset state, as QEMU 7.2's is after power-on. */
  public SimNvmeController() {
    this.bar0 =
        RegisterFile.builder("BAR0 of the simulated NVMe controller", BAR0_SIZE)
            .register(NvmeRegisters.CAP.offset(), 8, QEMU_CAP, RegisterAccess.RO)
            .register(NvmeRegisters.VS.offset(), 4, QEMU_VS, RegisterAccess.RO)
            .register(NvmeRegisters.CC.offset(), 4, 0, RegisterAccess.RW)
            .register(NvmeRegisters.CSTS.offset(), 4, 0, RegisterAccess.RO)
            .register(NvmeRegisters.AQA.offset(), 4, 0, RegisterAccess.RW)
            .register(NvmeRegisters.ASQ.offset(), 8, 0, RegisterAccess.RW)
            .register(NvmeRegisters.ACQ.offset(), 8, 0, RegisterAccess.RW)
            .build();
  }

  /** BAR0, the controller registers. */
  public RegisterFile bar0() {
    return bar0;
  }

  @Override
  public Optional<Mmio> bar(int index) {
    return index == 0 ? Optional.of(bar0) : Optional.empty();
  }

  /** QEMU's controller has a function-level reset. */
  @Override
  public boolean resettable() {
    return true;
  }

  /**
   * A function-level reset as QEMU 7.2 does it ({@code nvme_ctrl_reset}): CC and CSTS (and the
   * interrupt masks) go to 0; AQA, ASQ and ACQ keep what the host wrote.
   */
  @Override
  public void reset() {
    bar0.deviceStoreInt(NvmeRegisters.CC.offset(), 0);
    bar0.deviceStoreInt(NvmeRegisters.CSTS.offset(), 0);
  }
}
