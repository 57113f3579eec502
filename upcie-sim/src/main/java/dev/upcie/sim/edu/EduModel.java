package dev.upcie.sim.edu;

import static dev.upcie.sim.edu.EduRegisters.BUFFER;
import static dev.upcie.sim.edu.EduRegisters.BUFFER_SIZE;
import static dev.upcie.sim.edu.EduRegisters.DMA_COMMAND;
import static dev.upcie.sim.edu.EduRegisters.DMA_COUNT;
import static dev.upcie.sim.edu.EduRegisters.DMA_DESTINATION;
import static dev.upcie.sim.edu.EduRegisters.DMA_SOURCE;
import static dev.upcie.sim.edu.EduRegisters.FACTORIAL;
import static dev.upcie.sim.edu.EduRegisters.ID;
import static dev.upcie.sim.edu.EduRegisters.INTERRUPT_ACK;
import static dev.upcie.sim.edu.EduRegisters.INTERRUPT_RAISE;
import static dev.upcie.sim.edu.EduRegisters.INTERRUPT_STATUS;
import static dev.upcie.sim.edu.EduRegisters.LIVENESS;
import static dev.upcie.sim.edu.EduRegisters.STATUS;

import dev.upcie.pci.PciId;
import dev.upcie.sim.mmio.FieldAccess;
import dev.upcie.sim.mmio.RegisterFile;
import dev.upcie.sim.mmio.WidthRule;
import dev.upcie.sim.model.DeviceModel;
import dev.upcie.sim.model.ModelContext;
import dev.upcie.sim.model.Timer;
import dev.upcie.sim.sysfs.SimCapability;
import dev.upcie.sim.sysfs.SimFunction;
import java.lang.foreign.MemorySegment;
import java.time.Duration;
import java.util.Optional;

/**
 * QEMU 7.2's {@code edu} teaching device ({@code hw/misc/edu.c}) as a device model, held to QEMU's
 * by the conformance tests that run on both.
 *
 * <p>What it does, as QEMU does it:
 *
 * <ul>
 *   <li>BAR0 of 1 MiB; registers below 0x80 take 32-bit accesses only, the DMA registers 32 or 64
 *       bits (a 32-bit write there is zero-extended); everything else, and every access of another
 *       width, reads all ones and ignores writes.
 *   <li>{@code ID} reads {@code 0x010000ed}; {@code LIVENESS} reads the inverse of what was
 *       written.
 *   <li>A write to {@code FACTORIAL} (ignored while computing) sets {@code STATUS.COMPUTING} until
 *       the factorial, in 32-bit arithmetic, is ready; with {@code STATUS.IRQFACT} set it then
 *       raises cause 0x1.
 *   <li>{@code INTERRUPT_RAISE} ORs causes into {@code INTERRUPT_STATUS} and signals (one MSI when
 *       MSI is enabled, else INTx asserted); {@code INTERRUPT_ACK} clears causes and deasserts INTx
 *       when none is left.
 *   <li>DMA registers ignore writes while a transfer runs. A command with RUN starts a transfer
 *       that completes 100 ms later on the machine's clock: addresses are masked to 28 bits (a note
 *       in the trace says so, where QEMU prints "clamping"), the copy goes through the IOMMU, RUN
 *       clears and with the IRQ bit cause 0x100 is raised. A transfer whose buffer side leaves the
 *       4 KiB window at 0x40000 (or is empty) makes the model fatal, as it aborts QEMU.
 * </ul>
 */
public final class EduModel implements DeviceModel {
  private static final long RUN = EduRegisters.DMA_RUN.mask();
  private static final long TO_HOST = EduRegisters.DMA_TO_HOST.mask();
  private static final long IRQ = EduRegisters.DMA_INTERRUPT_ON_DONE.mask();
  private static final long COMPUTING = EduRegisters.STATUS_COMPUTING.mask();
  private static final long IRQFACT = EduRegisters.STATUS_INTERRUPT_ON_FACTORIAL.mask();
  private static final long DMA_MASK = (1L << EduRegisters.DMA_MASK_BITS) - 1;

  /** QEMU's vendor and device id for {@code edu}. */
  public static final PciId PCI_ID = new PciId(0x1234, 0x11e8);

  /** How long after the command a transfer completes, on the machine's clock: QEMU's timer. */
  public static final Duration TRANSFER_TIME = Duration.ofMillis(100);

  private final RegisterFile bar0;
  private final MemorySegment buffer = MemorySegment.ofArray(new byte[BUFFER_SIZE]);
  private ModelContext context;
  private Timer transferDone;
  private Timer factorialDone;

  /** An edu device as QEMU realizes it. */
  public EduModel() {
    this.bar0 =
        RegisterFile.builder("BAR0 of edu", EduRegisters.BAR0_SIZE)
            .widthRule(WidthRule.DECLARED)
            .unimplementedReads(-1L)
            .register(ID, 0x010000edL, FieldAccess.RO)
            .register(LIVENESS, 0, FieldAccess.RO)
            .onWrite(LIVENESS, value -> store(LIVENESS, ~value))
            .register(FACTORIAL, 0, FieldAccess.RO)
            .onWrite(FACTORIAL, this::factorial)
            .register(STATUS, 0, FieldAccess.RO)
            .onWrite(STATUS, this::status)
            .register(INTERRUPT_STATUS, 0, FieldAccess.RO)
            .register(INTERRUPT_RAISE, 0, FieldAccess.WO)
            .onWrite(INTERRUPT_RAISE, value -> raise((int) value))
            .register(INTERRUPT_ACK, 0, FieldAccess.WO)
            .onWrite(INTERRUPT_ACK, value -> lower((int) value))
            .register(DMA_SOURCE, 0, FieldAccess.RO)
            .onWrite(DMA_SOURCE, value -> dmaRegister(DMA_SOURCE, value))
            .register(DMA_DESTINATION, 0, FieldAccess.RO)
            .onWrite(DMA_DESTINATION, value -> dmaRegister(DMA_DESTINATION, value))
            .register(DMA_COUNT, 0, FieldAccess.RO)
            .onWrite(DMA_COUNT, value -> dmaRegister(DMA_COUNT, value))
            .register(DMA_COMMAND, 0, FieldAccess.RO)
            .onWrite(DMA_COMMAND, this::command)
            .build();
  }

  /**
   * {@code pci_edu_realize}: QEMU's vendor 0x1234, device 0x11e8, revision 0x10, class "other"
   * (0x00ff00), a 32-bit BAR0 of 1 MiB, INTA, and an MSI capability with one vector and 64-bit
   * addresses, no per-vector masking.
   */
  @Override
  public SimFunction.Builder declare(SimFunction.Builder function) {
    return function
        .id(PCI_ID.vendor(), PCI_ID.device())
        .classCode(0x00ff00)
        .revision(0x10)
        .bar(0, EduRegisters.BAR0_SIZE)
        .interruptPin(1)
        .capability(SimCapability.msi(0x40, 1, true, false));
  }

  @Override
  public Optional<RegisterFile> bar(int index) {
    return index == 0 ? Optional.of(bar0) : Optional.empty();
  }

  @Override
  public void attach(ModelContext context) {
    this.context = context;
    this.transferDone = context.scheduler().timer("edu DMA transfer", this::transfer);
    this.factorialDone = context.scheduler().timer("edu factorial", this::computeFactorial);
  }

  /** QEMU's default {@code dma_mask} property: the device drives 28 address bits. */
  @Override
  public int dmaMaskBits() {
    return EduRegisters.DMA_MASK_BITS;
  }

  /** BAR0, for tests that look behind the driver's back. */
  public RegisterFile bar0() {
    return bar0;
  }

  private synchronized void store(dev.upcie.register.Register register, long value) {
    bar0.store(register, value);
  }

  private synchronized void factorial(long value) {
    if ((bar0.value(STATUS) & COMPUTING) != 0) {
      return;
    }
    bar0.store(FACTORIAL, value);
    bar0.store(STATUS, bar0.value(STATUS) | COMPUTING);
    // QEMU computes in a thread of its own, so drivers must wait for the status bit.
    factorialDone.arm(Duration.ZERO);
  }

  private void computeFactorial() {
    boolean interrupt;
    synchronized (this) {
      int n = (int) bar0.value(FACTORIAL);
      int result = 1;
      // QEMU multiplies n times; from 34 on, 2^32 divides n! and the 32-bit result is 0, so the
      // model stops there rather than loop up to 4 billion times on the clock's thread.
      if (Integer.compareUnsigned(n, 34) >= 0) {
        result = 0;
        n = 0;
      }
      while (Integer.compareUnsigned(n, 0) > 0) {
        result *= n--;
      }
      bar0.store(FACTORIAL, Integer.toUnsignedLong(result));
      long status = bar0.value(STATUS) & ~COMPUTING;
      bar0.store(STATUS, status);
      interrupt = (status & IRQFACT) != 0;
    }
    if (interrupt) {
      raise(EduRegisters.FACTORIAL_INTERRUPT);
    }
  }

  private synchronized void status(long value) {
    long status = bar0.value(STATUS);
    bar0.store(STATUS, (value & IRQFACT) != 0 ? status | IRQFACT : status & ~IRQFACT);
  }

  private synchronized void raise(int causes) {
    long status = bar0.value(INTERRUPT_STATUS) | Integer.toUnsignedLong(causes);
    bar0.store(INTERRUPT_STATUS, status);
    if (status != 0) {
      if (context.interrupts().msiEnabled()) {
        context.interrupts().msi(0);
      } else {
        context.interrupts().intx(true);
      }
    }
  }

  private synchronized void lower(int causes) {
    long status = bar0.value(INTERRUPT_STATUS) & ~Integer.toUnsignedLong(causes);
    bar0.store(INTERRUPT_STATUS, status);
    if (status == 0 && !context.interrupts().msiEnabled()) {
      context.interrupts().intx(false);
    }
  }

  private synchronized void dmaRegister(dev.upcie.register.Register register, long value) {
    if ((bar0.value(DMA_COMMAND) & RUN) == 0) {
      bar0.store(register, value);
    }
  }

  private synchronized void command(long value) {
    if ((value & RUN) == 0 || (bar0.value(DMA_COMMAND) & RUN) != 0) {
      return;
    }
    bar0.store(DMA_COMMAND, value);
    transferDone.arm(TRANSFER_TIME);
  }

  /** {@code edu_dma_timer}. */
  private void transfer() {
    boolean interrupt;
    synchronized (this) {
      long command = bar0.value(DMA_COMMAND);
      if ((command & RUN) == 0) {
        return;
      }
      long count = bar0.value(DMA_COUNT);
      if ((command & TO_HOST) == 0) {
        long destination = bar0.value(DMA_DESTINATION);
        if (!inBuffer(destination, count)) {
          return;
        }
        long source = clamp(bar0.value(DMA_SOURCE));
        context.dma().read(source, buffer, destination - BUFFER, count);
      } else {
        long source = bar0.value(DMA_SOURCE);
        if (!inBuffer(source, count)) {
          return;
        }
        long destination = clamp(bar0.value(DMA_DESTINATION));
        context.dma().write(destination, buffer, source - BUFFER, count);
      }
      command &= ~RUN;
      bar0.store(DMA_COMMAND, command);
      interrupt = (command & IRQ) != 0;
    }
    if (interrupt) {
      raise(EduRegisters.DMA_INTERRUPT);
    }
  }

  /**
   * {@code edu_check_range}: the buffer side must start in the window and end strictly inside it,
   * so an empty transfer or one of the whole 4 KiB fails too. Failing makes the model fatal.
   */
  private boolean inBuffer(long address, long count) {
    long end = address + count;
    long windowEnd = BUFFER + BUFFER_SIZE;
    boolean ok =
        within(address, BUFFER, windowEnd)
            && Long.compareUnsigned(end, address) > 0
            && within(end, BUFFER, windowEnd);
    if (!ok) {
      context.fatal(
          String.format(
              "EDU: DMA range 0x%016x-0x%016x out of bounds (0x%016x-0x%016x)! QEMU 7.2 aborts the"
                  + " whole VM here (hw_error in edu_check_range): never send this transfer to"
                  + " QEMU",
              address, end - 1, BUFFER, windowEnd - 1));
    }
    return ok;
  }

  private static boolean within(long address, long start, long end) {
    return Long.compareUnsigned(start, address) <= 0 && Long.compareUnsigned(address, end) < 0;
  }

  /** {@code edu_clamp_addr}: QEMU masks an address to 28 bits and says so, it does not refuse. */
  private long clamp(long address) {
    long clamped = address & DMA_MASK;
    if (clamped != address) {
      context
          .trace()
          .note(String.format("EDU: clamping DMA 0x%016x to 0x%016x!", address, clamped));
    }
    return clamped;
  }

  @Override
  public String toString() {
    return "EduModel";
  }
}
