package dev.upcie.nvme;

/**
 * Offsets of the NVMe controller registers in BAR0 (NVMe base specification, section 3.1).
 *
 * <p>A layout descriptor: constants only, in the style of Agrona's {@code *Descriptor} classes.
 */
public final class NvmeRegisters {
  /** Controller Capabilities, 64-bit, read-only: see {@link NvmeCap}. */
  public static final long CAP = 0x00;

  /** Version, 32-bit, read-only: see {@link NvmeVersion}. */
  public static final long VS = 0x08;

  /** Interrupt Mask Set, 32-bit. */
  public static final long INTMS = 0x0c;

  /** Interrupt Mask Clear, 32-bit. */
  public static final long INTMC = 0x10;

  /** Controller Configuration, 32-bit: see {@link NvmeCc}. */
  public static final long CC = 0x14;

  /** Controller Status, 32-bit, read-only: see {@link NvmeCsts}. */
  public static final long CSTS = 0x1c;

  /** NVM Subsystem Reset, 32-bit. */
  public static final long NSSR = 0x20;

  /** Admin Queue Attributes, 32-bit: queue sizes, 0-based. */
  public static final long AQA = 0x24;

  /** Admin Submission Queue base address, 64-bit. */
  public static final long ASQ = 0x28;

  /** Admin Completion Queue base address, 64-bit. */
  public static final long ACQ = 0x30;

  /** The first doorbell (admin submission queue tail); the stride is {@link NvmeCap#dstrd()}. */
  public static final long DOORBELLS = 0x1000;

  private NvmeRegisters() {}
}
