package dev.upcie.sim.edu;

import dev.upcie.register.Field;
import dev.upcie.register.Register;

/**
 * The registers of QEMU's {@code edu} teaching device in BAR0 (QEMU 7.2, {@code hw/misc/edu.c}), as
 * {@link Register} and {@link Field} values: what a driver for it, the tests that hold the
 * simulator to QEMU, and the benchmarks share.
 *
 * <p>Facts of QEMU 7.2 a driver must respect: registers below 0x80 take 32-bit accesses only, the
 * DMA registers 32 or 64-bit; DMA addresses are masked to 28 bits (not refused); a transfer outside
 * the 4 KiB buffer window at {@link #BUFFER} aborts the whole VM; a transfer completes about 100 ms
 * (virtual time) after the command; interrupts are INTx or one MSI vector, no MSI-X.
 */
public final class EduRegisters {
  /** PCI vendor:device of QEMU's edu device. */
  public static final String ID_STRING = "1234:11e8";

  /** Identification, read-only: {@code 0xRRrr00ed}, major and minor version. */
  public static final Register ID = new Register("ID", 0x00, 4);

  /** Liveness check: reads back the bitwise inverse of what was written. */
  public static final Register LIVENESS = new Register("LIVENESS", 0x04, 4);

  /** Factorial: a write starts computing the value's factorial; a read returns the result. */
  public static final Register FACTORIAL = new Register("FACTORIAL", 0x08, 4);

  /** Status: bit 0 computing (read-only), bit 7 raise an interrupt when the factorial is done. */
  public static final Register STATUS = new Register("STATUS", 0x20, 4);

  /** Interrupt status, read-only: the causes raised and not yet acknowledged. */
  public static final Register INTERRUPT_STATUS = new Register("INTERRUPT_STATUS", 0x24, 4);

  /** Interrupt raise, write-only: raises an interrupt with the written value as its cause. */
  public static final Register INTERRUPT_RAISE = new Register("INTERRUPT_RAISE", 0x60, 4);

  /**
   * Interrupt acknowledge, write-only: clears the written causes (INTx deasserts when none is
   * left).
   */
  public static final Register INTERRUPT_ACK = new Register("INTERRUPT_ACK", 0x64, 4);

  /** DMA source address. */
  public static final Register DMA_SOURCE = new Register("DMA_SOURCE", 0x80, 8);

  /** DMA destination address. */
  public static final Register DMA_DESTINATION = new Register("DMA_DESTINATION", 0x88, 8);

  /** DMA transfer count, in bytes. */
  public static final Register DMA_COUNT = new Register("DMA_COUNT", 0x90, 8);

  /** DMA command: run, direction, interrupt on completion. */
  public static final Register DMA_COMMAND = new Register("DMA_COMMAND", 0x98, 8);

  /** STATUS: a factorial is being computed. */
  public static final Field STATUS_COMPUTING = STATUS.field("COMPUTING", 0, 1);

  /** STATUS: raise an interrupt (cause {@link #FACTORIAL_INTERRUPT}) when the factorial is done. */
  public static final Field STATUS_INTERRUPT_ON_FACTORIAL = STATUS.field("IRQFACT", 7, 1);

  /** DMA_COMMAND: start the transfer; reads 1 while it runs. */
  public static final Field DMA_RUN = DMA_COMMAND.field("RUN", 0, 1);

  /** DMA_COMMAND: direction, 0 from host memory to the device's buffer, 1 from the buffer out. */
  public static final Field DMA_TO_HOST = DMA_COMMAND.field("TO_HOST", 1, 1);

  /** DMA_COMMAND: raise an interrupt (cause {@link #DMA_INTERRUPT}) when the transfer is done. */
  public static final Field DMA_INTERRUPT_ON_DONE = DMA_COMMAND.field("IRQ", 2, 1);

  /** The interrupt cause a finished factorial raises. */
  public static final int FACTORIAL_INTERRUPT = 0x1;

  /** The interrupt cause a finished DMA transfer raises. */
  public static final int DMA_INTERRUPT = 0x100;

  /** The device address of the 4 KiB buffer the DMA engine copies to and from. */
  public static final long BUFFER = 0x40000;

  /** The size of that buffer. */
  public static final int BUFFER_SIZE = 4096;

  /**
   * The longest transfer QEMU 7.2 accepts from the buffer's start: one byte short of it. Its range
   * check ({@code edu_check_range}) wants the transfer's end strictly inside the window, so a
   * transfer of the whole 4 KiB aborts the VM with "DMA range ... out of bounds".
   */
  public static final int MAX_TRANSFER = BUFFER_SIZE - 1;

  /** The DMA mask QEMU 7.2 applies by default: 28 bits. */
  public static final int DMA_MASK_BITS = 28;

  /** BAR0's size: 1 MiB. */
  public static final long BAR0_SIZE = 1 << 20;

  private EduRegisters() {}
}
