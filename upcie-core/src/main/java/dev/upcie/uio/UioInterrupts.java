package dev.upcie.uio;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.kernel.InterruptVectors;
import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciConfigRegisters;
import dev.upcie.support.NotSupportedException;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;

/**
 * INTx through {@code /dev/uioN}, the only interrupt {@code uio_pci_generic} delivers: a read
 * returns the running count of interrupts. The driver masks the line each time it fires, with the
 * command register's INTx-disable bit, and leaves unmasking to user space: clearing that bit again
 * through the config space, as the kernel's UIO how-to does (the driver has no {@code irqcontrol},
 * so writing to {@code /dev/uioN} fails with {@code ENOSYS}).
 */
final class UioInterrupts implements Interrupts {
  private final UioPciDevice device;
  private final ConfigSpace config;
  private final NativeFd uio;
  private final String uioName;
  private final String name;
  private final int intxVectors;
  private volatile InterruptVectors vectors;

  UioInterrupts(
      UioPciDevice device, ConfigSpace config, NativeFd uio, String uioName, String name) {
    this.device = device;
    this.config = config;
    this.uio = uio;
    this.uioName = uioName;
    this.name = name;
    this.intxVectors = config.read(PciConfigRegisters.INTERRUPT_PIN) == 0 ? 0 : 1;
  }

  @Override
  public int vectors(InterruptMode mode) {
    return mode == InterruptMode.INTX ? intxVectors : 0;
  }

  @Override
  public synchronized void enable(InterruptMode mode, int count) {
    try {
      Interrupts.checkRequest(name, this, mode, count);
    } catch (NotSupportedException e) {
      throw new NotSupportedException(
          e.getMessage()
              + " (uio_pci_generic delivers INTx only; the vfio backend has MSI and MSI-X)");
    }
    disable();
    // Consume what fired before, so the first await reports only what fires from now on.
    long total = runningTotal();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(ValueLayout.JAVA_INT);
      if (Syscalls.tryRead(uio, buffer) == Integer.BYTES) {
        total = Integer.toUnsignedLong(buffer.get(ValueLayout.JAVA_INT, 0));
      }
    }
    control(1);
    vectors =
        new InterruptVectors(
            name, new NativeFd[] {uio}, InterruptVectors.Counter.UIO, new long[] {total});
  }

  @Override
  public Optional<InterruptMode> mode() {
    return vectors == null ? Optional.empty() : Optional.of(InterruptMode.INTX);
  }

  @Override
  public int enabledVectors() {
    return vectors == null ? 0 : 1;
  }

  @Override
  public long await(int vector, long timeoutNanos) {
    return InterruptVectors.require(vectors, name, vector).await(vector, timeoutNanos);
  }

  @Override
  public long drain(int vector) {
    return InterruptVectors.require(vectors, name, vector).drain(vector);
  }

  @Override
  public synchronized void unmask(int vector) {
    InterruptVectors.require(vectors, name, vector);
    control(1);
  }

  @Override
  public synchronized void disable() {
    InterruptVectors enabled = vectors;
    if (enabled == null) {
      return;
    }
    vectors = null;
    try {
      control(0);
    } finally {
      enabled.close();
    }
  }

  /**
   * Unmasks (1) or masks (0) INTx with the command register's INTx-disable bit, writing its upper
   * byte only: the kernel's handler sets that bit when the line fires, and a write of the lower
   * byte could race with it.
   */
  private void control(int on) {
    int upper = (int) PciConfigRegisters.COMMAND.offset() + 1;
    int disable = (int) (PciConfigRegisters.COMMAND_INTX_DISABLE.mask() >>> 8);
    int value = config.read8(upper);
    config.write8(upper, on == 1 ? value & ~disable : value | disable);
  }

  /** The interrupts the kernel counted so far, {@code /sys/class/uio/uioN/event}. */
  private long runningTotal() {
    String event = "class/uio/" + uioName + "/event";
    return device.host().sysfs().exists(event)
        ? Long.parseLong(device.host().sysfs().readAttribute(event))
        : 0;
  }
}
