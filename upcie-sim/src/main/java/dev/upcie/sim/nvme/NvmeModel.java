package dev.upcie.sim.nvme;

import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciId;
import dev.upcie.sim.mmio.FieldAccess;
import dev.upcie.sim.mmio.RegisterFile;
import dev.upcie.sim.model.DeviceModel;
import dev.upcie.sim.sysfs.SimCapability;
import dev.upcie.sim.sysfs.SimFunction;
import java.util.Optional;

/**
 * A simulated NVMe controller, modelled on QEMU 7.2's {@code nvme} device: BAR0 with the controller
 * registers and the values QEMU reports.
 *
 * <p>It carries the register block and the controller's state machine, without queues yet: CAP and
 * VS as QEMU reports them; CC, AQA, ASQ and ACQ storing what the host writes, reserved bits
 * included, as QEMU 7.2 does; CC.EN validated as QEMU's {@code nvme_start_ctrl} does, bringing
 * CSTS.RDY at once or CSTS.CFS; CC.EN cleared resetting the controller (CC and CSTS to 0); shutdown
 * notifications completing at once. The it-qemu conformance test holds each to QEMU. Admin and I/O
 * queues, doorbells and commands arrive with the full model.
 */
public final class NvmeModel implements DeviceModel {
  /** PCI vendor:device of QEMU's NVMe controller (Red Hat, QEMU NVM Express). */
  public static final int VENDOR = 0x1b36;

  /** The device id of QEMU's NVMe controller. */
  public static final int DEVICE = 0x0010;

  /** {@link #VENDOR}:{@link #DEVICE}, as a recording or {@code lspci} shows it. */
  public static final PciId PCI_ID = new PciId(VENDOR, DEVICE);

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

  /** The entry sizes QEMU 7.2 advertises in Identify (SQES 0x66, CQES 0x44): 64 and 16 bytes. */
  static final int SQ_ENTRY_BITS = 6;

  static final int CQ_ENTRY_BITS = 4;

  /** SHST 2: shutdown processing complete. */
  private static final long SHST_COMPLETE = 2;

  private final RegisterFile bar0;
  // CC as the controller last acted on it, to see which bits a write changed; guarded by this.
  private long cc;

  /** A controller in its reset state, as QEMU 7.2's is after power-on. */
  public NvmeModel() {
    this.bar0 =
        RegisterFile.builder("BAR0 of the simulated NVMe controller", BAR0_SIZE)
            .register(NvmeRegisters.CAP, QEMU_CAP, FieldAccess.RO)
            .register(NvmeRegisters.VS, QEMU_VS, FieldAccess.RO)
            .register(NvmeRegisters.CC, 0, FieldAccess.RW)
            .register(NvmeRegisters.CSTS, 0, FieldAccess.RO)
            .register(NvmeRegisters.AQA, 0, FieldAccess.RW)
            .register(NvmeRegisters.ASQ, 0, FieldAccess.RW)
            .register(NvmeRegisters.ACQ, 0, FieldAccess.RW)
            .onWrite(NvmeRegisters.CC, written -> configured())
            .build();
  }

  /**
   * QEMU 7.2's {@code nvme_write_bar} for CC: a shutdown notification completes at once (SHST
   * complete) and clearing it clears SHST; EN going to 1 starts the controller if {@link
   * #startable} (CSTS.RDY, at once, as QEMU has no delay) or reports controller fatal status (CSTS
   * is then CFS alone); EN going to 0 resets it, which also clears CC.
   */
  private synchronized void configured() {
    long now = bar0.value(NvmeRegisters.CC);
    long csts = bar0.value(NvmeRegisters.CSTS);
    long shn = NvmeRegisters.CC_SHN.get(now);
    long wasShn = NvmeRegisters.CC_SHN.get(cc);
    if (shn != 0 && wasShn == 0) {
      csts = NvmeRegisters.CSTS_SHST.set(csts, SHST_COMPLETE);
    } else if (shn == 0 && wasShn != 0) {
      csts = NvmeRegisters.CSTS_SHST.set(csts, 0);
    }
    boolean enable = NvmeRegisters.CC_EN.get(now) != 0;
    boolean wasEnabled = NvmeRegisters.CC_EN.get(cc) != 0;
    if (enable && !wasEnabled) {
      csts = startable(now) ? NvmeRegisters.CSTS_RDY.mask() : NvmeRegisters.CSTS_CFS.mask();
    } else if (!enable && wasEnabled) {
      reset();
      return;
    }
    bar0.store(NvmeRegisters.CSTS, csts);
    cc = now;
  }

  /**
   * QEMU 7.2's {@code nvme_start_ctrl} checks, in its order: admin queues aligned to the memory
   * page size, a command set CAP.CSS offers, a page size within CAP.MPSMIN and MPSMAX, the queue
   * entry sizes Identify advertises, and admin queues of at least two entries.
   */
  private boolean startable(long cc) {
    long pageSize = 1L << (12 + NvmeRegisters.CC_MPS.get(cc));
    long aqa = bar0.value(NvmeRegisters.AQA);
    return (bar0.value(NvmeRegisters.ASQ) & (pageSize - 1)) == 0
        && (bar0.value(NvmeRegisters.ACQ) & (pageSize - 1)) == 0
        && (NvmeRegisters.CAP_CSS.get(QEMU_CAP) & (1L << NvmeRegisters.CC_CSS.get(cc))) != 0
        && NvmeRegisters.CC_MPS.get(cc) >= NvmeRegisters.CAP_MPSMIN.get(QEMU_CAP)
        && NvmeRegisters.CC_MPS.get(cc) <= NvmeRegisters.CAP_MPSMAX.get(QEMU_CAP)
        && NvmeRegisters.CC_IOCQES.get(cc) == CQ_ENTRY_BITS
        && NvmeRegisters.CC_IOSQES.get(cc) == SQ_ENTRY_BITS
        && NvmeRegisters.AQA_ASQS.get(aqa) != 0
        && NvmeRegisters.AQA_ACQS.get(aqa) != 0;
  }

  /**
   * QEMU 7.2's {@code nvme_init_pci}: Red Hat's QEMU NVM Express controller, revision 2, a 64-bit
   * BAR0 of 16 KiB, INTA, MSI-X (65 vectors, table at BAR0 + 0x2000, PBA at + 0x3000), PM at 0x60
   * (no soft reset), and a root-complex integrated endpoint's PCI Express capability at 0x80 with
   * function-level reset.
   */
  @Override
  public SimFunction.Builder declare(SimFunction.Builder function) {
    return function
        .id(VENDOR, DEVICE)
        .classCode(0x010802)
        .revision(2)
        .bar64(0, BAR0_SIZE)
        .interruptPin(1)
        .pciExpress()
        .capability(SimCapability.msix(0x40, 65, 0, 0x2000, 0, 0x3000))
        .capability(0x80, PciCapability.PCI_EXPRESS, expressCapability())
        .capability(
            0x60,
            PciCapability.POWER_MANAGEMENT,
            (byte) 0x03,
            (byte) 0,
            (byte) 0x08,
            (byte) 0,
            (byte) 0,
            (byte) 0);
  }

  /**
   * The bytes after the header of QEMU 7.2's NVMe PCI Express capability (0x82 to 0xbb), as a guest
   * reads them: a version 2 root-complex integrated endpoint whose device capabilities have
   * function-level reset.
   */
  private static byte[] expressCapability() {
    byte[] body = new byte[0xbc - 0x82];
    body[0x82 - 0x82] = (byte) 0x92; // PCI Express capabilities: version 2, type 9
    body[0x85 - 0x82] = (byte) 0x80; // device capabilities: role-based error reporting
    body[0x87 - 0x82] = 0x10; // device capabilities: function-level reset
    body[0x8c - 0x82] = 0x11; // link capabilities: 2.5 GT/s, x1
    body[0x8d - 0x82] = 0x04;
    body[0x92 - 0x82] = 0x11; // link status: 2.5 GT/s, x1
    body[0xa6 - 0x82] = 0x30; // device capabilities 2
    return body;
  }

  /** BAR0, the controller registers. */
  public RegisterFile bar0() {
    return bar0;
  }

  @Override
  public Optional<RegisterFile> bar(int index) {
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
  public synchronized void reset() {
    bar0.store(NvmeRegisters.CC, 0);
    bar0.store(NvmeRegisters.CSTS, 0);
    cc = 0;
  }
}
