package dev.upcie.vfio;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.kernel.InterruptVectors;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import java.util.Optional;

/**
 * Interrupts through VFIO: each enabled vector is an eventfd the kernel signals ({@code
 * VFIO_DEVICE_SET_IRQS} with {@code DATA_EVENTFD | ACTION_TRIGGER}). INTx is masked by the kernel
 * when it fires and unmasked with {@code ACTION_UNMASK}.
 */
final class VfioInterrupts implements Interrupts {
  private final VfioDevice device;
  private final String name;
  private final int[] counts = new int[InterruptMode.values().length];
  private volatile InterruptVectors vectors;
  private InterruptMode mode;

  VfioInterrupts(VfioDevice device, String name) {
    this.device = device;
    this.name = name;
    counts[InterruptMode.INTX.ordinal()] = device.irqCount(VfioAbi.PCI_INTX_IRQ_INDEX);
    counts[InterruptMode.MSI.ordinal()] = device.irqCount(VfioAbi.PCI_MSI_IRQ_INDEX);
    counts[InterruptMode.MSIX.ordinal()] = device.irqCount(VfioAbi.PCI_MSIX_IRQ_INDEX);
  }

  @Override
  public int vectors(InterruptMode mode) {
    return counts[mode.ordinal()];
  }

  @Override
  public synchronized void enable(InterruptMode mode, int count) {
    Interrupts.checkRequest(name, this, mode, count);
    disable();
    NativeFd[] eventfds = new NativeFd[count];
    try {
      for (int i = 0; i < count; i++) {
        eventfds[i] = device.calls().eventfd(Posix.EFD_NONBLOCK);
      }
      int[] numbers = new int[count];
      for (int i = 0; i < count; i++) {
        numbers[i] = eventfds[i].acquire();
      }
      try {
        device.setIrqs(
            index(mode),
            VfioAbi.IRQ_SET_DATA_EVENTFD | VfioAbi.IRQ_SET_ACTION_TRIGGER,
            0,
            count,
            numbers);
      } finally {
        for (NativeFd fd : eventfds) {
          fd.release();
        }
      }
    } catch (RuntimeException e) {
      for (NativeFd fd : eventfds) {
        if (fd != null) {
          fd.close();
        }
      }
      throw e;
    }
    this.mode = mode;
    this.vectors = new InterruptVectors(name, eventfds, InterruptVectors.Counter.EVENTFD);
  }

  @Override
  public synchronized Optional<InterruptMode> mode() {
    return Optional.ofNullable(mode);
  }

  @Override
  public int enabledVectors() {
    InterruptVectors enabled = vectors;
    return enabled == null ? 0 : enabled.count();
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
    if (mode == InterruptMode.INTX) {
      device.setIrqs(
          VfioAbi.PCI_INTX_IRQ_INDEX,
          VfioAbi.IRQ_SET_DATA_NONE | VfioAbi.IRQ_SET_ACTION_UNMASK,
          0,
          1,
          null);
    }
  }

  @Override
  public synchronized void disable() {
    InterruptVectors enabled = vectors;
    if (enabled == null) {
      return;
    }
    vectors = null;
    InterruptMode was = mode;
    mode = null;
    try {
      device.setIrqs(
          index(was), VfioAbi.IRQ_SET_DATA_NONE | VfioAbi.IRQ_SET_ACTION_TRIGGER, 0, 0, null);
    } finally {
      enabled.close();
    }
  }

  private static int index(InterruptMode mode) {
    return switch (mode) {
      case INTX -> VfioAbi.PCI_INTX_IRQ_INDEX;
      case MSI -> VfioAbi.PCI_MSI_IRQ_INDEX;
      case MSIX -> VfioAbi.PCI_MSIX_IRQ_INDEX;
    };
  }
}
