package dev.upcie.sim.nvme;

import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciId;
import dev.upcie.sim.mmio.FieldAccess;
import dev.upcie.sim.mmio.RegisterFile;
import dev.upcie.sim.model.DeviceModel;
import dev.upcie.sim.model.ModelContext;
import dev.upcie.sim.sysfs.SimCapability;
import dev.upcie.sim.sysfs.SimFunction;
import java.util.Objects;
import java.util.Optional;

/**
 * A simulated NVMe controller, modelled on QEMU 7.2's {@code nvme} device and held to it by the
 * it-qemu conformance tests, which run the same raw commands on both.
 *
 * <p>Registers: CAP and VS as QEMU reports them; CC, AQA, ASQ and ACQ storing what the host writes,
 * reserved bits included; CC.EN validated as QEMU's {@code nvme_start_ctrl} does, bringing CSTS.RDY
 * (at once, or after {@link NvmeOptions#readyDelay()}) or CSTS.CFS; CC.EN cleared resetting the
 * controller; shutdown notifications completing at once; INTMS and INTMC; the doorbells. Behind
 * them, the admin and NVM command sets on queues in host memory, with every DMA through the
 * simulated IOMMU. See {@link NvmeOptions} for what can be configured.
 *
 * <pre>{@code
 * NvmeModel nvme = new NvmeModel(NvmeOptions.builder()
 *     .namespace(NamespaceOptions.sparse(1L << 30, 4096)).build());
 * SimMachine machine = SimMachine.builder()
 *     .driver(SimDriver.overrideOnly("vfio-pci"))
 *     .device(SimFunction.builder("0000:00:04.0").iommuGroup(4).driver("vfio-pci"), nvme)
 *     .build();
 * }</pre>
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

  /** BAR0 of QEMU's controller with its defaults: registers, doorbells and the MSI-X table. */
  public static final long BAR0_SIZE = 16 * 1024;

  /** The PCI subsystem vendor QEMU gives its devices (Red Hat's virtio id). */
  static final int SUBSYSTEM_VENDOR = 0x1af4;

  /** The entry sizes QEMU 7.2 advertises in Identify (SQES 0x66, CQES 0x44): 64 and 16 bytes. */
  static final int SQ_ENTRY_BITS = 6;

  static final int CQ_ENTRY_BITS = 4;

  /** SHST 2: shutdown processing complete. */
  private static final long SHST_COMPLETE = 2;

  private final NvmeOptions options;
  private final long msixTable;
  private final long msixPendingBits;
  private final long bar0Size;
  private final RegisterFile bar0;
  private final Controller controller;
  private final NvmeFaults faults;
  // Guarded by the controller: RDY is held back by a fault; the controller started but is not
  // ready.
  private boolean readyHeld;
  private boolean startedNotReady;
  // CC as the controller last acted on it, to see which bits a write changed; guarded by the
  // controller.
  private long cc;
  private ModelContext context;

  /**
   * QEMU 7.2's controller with its defaults and two 64 MiB namespaces (512-byte and 4 KiB blocks):
   * {@link NvmeOptions#defaults()}.
   */
  public NvmeModel() {
    this(NvmeOptions.defaults());
  }

  /** A controller built with {@code options}, in its reset state. */
  public NvmeModel(NvmeOptions options) {
    this.options = Objects.requireNonNull(options, "options");
    // QEMU's nvme_mbar_size: registers and doorbells, then the MSI-X table and pending bits,
    // each 4 KiB aligned, rounded up to a power of two.
    long doorbellsEnd = NvmeRegisters.DOORBELLS + 2L * (options.maxIoQueuePairs() + 1) * 4;
    this.msixTable = align(doorbellsEnd, 4096);
    this.msixPendingBits = align(msixTable + 16L * options.msixQueueSize(), 4096);
    long end = msixPendingBits + align(options.msixQueueSize(), 64) / 8;
    this.bar0Size = Long.highestOneBit(end - 1) << 1;
    RegisterFile.Builder bar =
        RegisterFile.builder("BAR0 of the simulated NVMe controller", bar0Size)
            .register(NvmeRegisters.CAP, QEMU_CAP, FieldAccess.RO)
            .register(NvmeRegisters.VS, QEMU_VS, FieldAccess.RO)
            .register(NvmeRegisters.INTMS, 0, FieldAccess.RO)
            .register(NvmeRegisters.INTMC, 0, FieldAccess.RO)
            .register(NvmeRegisters.CC, 0, FieldAccess.RW)
            .register(NvmeRegisters.CSTS, 0, FieldAccess.RO)
            .register(NvmeRegisters.AQA, 0, FieldAccess.RW)
            .register(NvmeRegisters.ASQ, 0, FieldAccess.RW)
            .register(NvmeRegisters.ACQ, 0, FieldAccess.RW)
            .onWrite(NvmeRegisters.CC, written -> configured())
            .onWrite(NvmeRegisters.INTMS, this::maskInterrupts)
            .onWrite(NvmeRegisters.INTMC, this::unmaskInterrupts);
    // QEMU takes every write from the first doorbell to the MSI-X table as a doorbell (those past
    // the last queue are for queues that do not exist), and reads there as 0.
    bar.onWrite(
        NvmeRegisters.DOORBELLS,
        msixTable,
        (offset, value, width) -> controller().doorbell(offset, value & 0xffff_ffffL));
    this.bar0 = bar.build();
    this.controller = new Controller(options, bar0, VENDOR, SUBSYSTEM_VENDOR);
    this.faults = new NvmeFaults(controller, this);
    controller.faults = faults;
  }

  /** The faults to inject into this controller. */
  public NvmeFaults faults() {
    return faults;
  }

  void holdReady(boolean hold) {
    synchronized (controller) {
      readyHeld = hold;
      if (!hold && startedNotReady) {
        becomeReady();
      }
    }
  }

  void raiseFatal() {
    synchronized (controller) {
      bar0.store(NvmeRegisters.CSTS_CFS, 1);
      if (context != null) {
        context.trace().note("NVMe fault injected: controller fatal status");
      }
    }
  }

  // CSTS.RDY, unless a fault holds it back or the controller failed meanwhile.
  private void becomeReady() {
    if (readyHeld) {
      startedNotReady = true;
      return;
    }
    startedNotReady = false;
    long csts = bar0.value(NvmeRegisters.CSTS);
    if (NvmeRegisters.CSTS_CFS.get(csts) == 0) {
      bar0.store(NvmeRegisters.CSTS, NvmeRegisters.CSTS_RDY.set(csts, 1));
    }
  }

  // The doorbells' hooks are made before the controller exists: they reach it through this.
  private Controller controller() {
    return controller;
  }

  private static long align(long value, long to) {
    return (value + to - 1) / to * to;
  }

  /** The options this controller was built with. */
  public NvmeOptions options() {
    return options;
  }

  @Override
  public void attach(ModelContext context) {
    synchronized (controller) {
      this.context = context;
      controller.context = context;
      controller.startNanos = context.scheduler().nanoTime();
    }
  }

  /** QEMU's INTMS: the written bits are masked; INTMC reads the same mask. */
  private void maskInterrupts(long bits) {
    synchronized (controller) {
      long mask = bar0.value(NvmeRegisters.INTMS) | bits;
      bar0.store(NvmeRegisters.INTMS, mask);
      bar0.store(NvmeRegisters.INTMC, mask);
      controller.checkInterrupts();
    }
  }

  /** QEMU's INTMC: the written bits are unmasked. */
  private void unmaskInterrupts(long bits) {
    synchronized (controller) {
      long mask = bar0.value(NvmeRegisters.INTMS) & ~bits;
      bar0.store(NvmeRegisters.INTMS, mask);
      bar0.store(NvmeRegisters.INTMC, mask);
      controller.checkInterrupts();
    }
  }

  /**
   * QEMU 7.2's {@code nvme_write_bar} for CC: a shutdown notification completes at once (SHST
   * complete) and clearing it clears SHST; EN going to 1 starts the controller if {@link
   * #startable} (CSTS.RDY, at once, as QEMU has no delay) or reports controller fatal status (CSTS
   * is then CFS alone); EN going to 0 resets it, which also clears CC.
   */
  private void configured() {
    synchronized (controller) {
      configuredLocked();
    }
  }

  private void configuredLocked() {
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
      if (!startable(now)) {
        csts = NvmeRegisters.CSTS_CFS.mask();
      } else {
        csts = 0; // QEMU sets CSTS to exactly RDY
        controller.start(
            now,
            bar0.value(NvmeRegisters.AQA),
            bar0.value(NvmeRegisters.ASQ),
            bar0.value(NvmeRegisters.ACQ));
        if (options.readyDelay().isZero() || context == null) {
          bar0.store(NvmeRegisters.CSTS, csts);
          cc = now;
          becomeReady();
          return;
        } else {
          long started = ++starts;
          context.scheduler().schedule(options.readyDelay(), "NVMe CSTS.RDY", () -> ready(started));
        }
      }
    } else if (!enable && wasEnabled) {
      reset();
      return;
    }
    bar0.store(NvmeRegisters.CSTS, csts);
    cc = now;
  }

  // Which enable a delayed CSTS.RDY belongs to: a reset in between makes it stale.
  private long starts;

  private void ready(long started) {
    synchronized (controller) {
      if (started == starts && NvmeRegisters.CC_EN.get(cc) != 0) {
        becomeReady();
      }
    }
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
   * BAR0 (16 KiB with the defaults), INTA, MSI-X (65 vectors by default, table and pending bits in
   * BAR0 after the doorbells), PM at 0x60 (no soft reset), and a root-complex integrated endpoint's
   * PCI Express capability at 0x80 with function-level reset.
   */
  @Override
  public SimFunction.Builder declare(SimFunction.Builder function) {
    return function
        .id(VENDOR, DEVICE)
        .classCode(0x010802)
        .revision(2)
        .bar64(0, bar0Size)
        .interruptPin(1)
        .pciExpress()
        .capability(
            SimCapability.msix(
                0x40, options.msixQueueSize(), 0, (int) msixTable, 0, (int) msixPendingBits))
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
   * A function-level reset as QEMU 7.2 does it ({@code nvme_ctrl_reset}): every queue and pending
   * event is dropped; CC, CSTS and the interrupt masks go to 0; AQA, ASQ and ACQ keep what the host
   * wrote.
   */
  @Override
  public void reset() {
    synchronized (controller) {
      controller.reset();
      bar0.store(NvmeRegisters.CC, 0);
      bar0.store(NvmeRegisters.CSTS, 0);
      bar0.store(NvmeRegisters.INTMS, 0);
      bar0.store(NvmeRegisters.INTMC, 0);
      cc = 0;
      starts++;
      startedNotReady = false;
    }
  }
}
