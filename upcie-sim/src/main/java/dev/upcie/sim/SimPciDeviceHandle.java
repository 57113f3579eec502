package dev.upcie.sim;

import dev.upcie.dma.DmaSpace;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.support.NotSupportedException;

/**
 * A simulated function opened for a driver: the same handle a driver gets from VFIO, backed by a
 * {@link SimDevice} model.
 *
 * <p>It has the model's BARs, the configuration space the simulated sysfs shows (the command
 * register writable), and the model's reset. The simulator does not model DMA or interrupts yet:
 * {@link #dma()} and {@link #interrupts()} say so, and tests that need them run on the real
 * backends. Like the real handle, everything throws once it is closed.
 */
public final class SimPciDevice implements PciDeviceHandle {
  private final PciFunction function;
  private final SimDevice model;
  private final SimConfigSpace config;
  private volatile boolean closed;

  SimPciDevice(PciFunction function, SimDevice model, byte[] config) {
    this.function = function;
    this.model = model;
    this.config = new SimConfigSpace("config space of " + function.address(), config, this);
  }

  @Override
  public PciFunction function() {
    return function;
  }

  @Override
  public String backend() {
    return SimBackend.NAME;
  }

  /** The device model, for tests that look behind the registers or inject faults. */
  public SimDevice model() {
    return model;
  }

  @Override
  public Mmio bar(int index) {
    checkOpen();
    if (index < 0 || index > 5) {
      throw new IllegalArgumentException("BAR index must be 0 to 5: " + index);
    }
    Mmio bar =
        model
            .bar(index)
            .orElseThrow(() ->
                new PciException(
                    "BAR" + index + " of " + function.address() + " is not implemented"));
    return new HandleMmio(bar);
  }

  @Override
  public ConfigSpace config() {
    checkOpen();
    return config;
  }

  @Override
  public DmaSpace dma() {
    checkOpen();
    throw new NotSupportedException(
        "the simulator does not model DMA yet: "
            + function.summary()
            + " (sim) cannot reach host memory; run tests that need DMA on the vfio or uio"
            + " backend");
  }

  @Override
  public Interrupts interrupts() {
    checkOpen();
    throw new NotSupportedException(
        "the simulator does not model interrupts yet: "
            + function.summary()
            + " (sim) raises none; run tests that need interrupts on the vfio or uio backend");
  }

  @Override
  public boolean canReset() {
    return model.resettable();
  }

  @Override
  public void reset() {
    checkOpen();
    if (!model.resettable()) {
      throw new NotSupportedException(function.summary() + " (sim) has no reset method");
    }
    model.reset();
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException(function.address() + " is closed");
    }
  }

  @Override
  public void close() {
    closed = true;
  }

  @Override
  public String toString() {
    return "SimPciDevice[" + function.summary() + "]";
  }

  /** The model's BAR as seen through this handle: refuses access once the handle is closed. */
  private final class HandleMmio implements Mmio {
    private final Mmio bar;
    private final String name;

    HandleMmio(Mmio bar) {
      this.bar = bar;
      this.name = "BAR of " + function.address() + " (" + bar.name() + ")";
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public long size() {
      return bar.size();
    }

    @Override
    public int getIntVolatile(long offset) {
      checkOpen();
      return bar.getIntVolatile(offset);
    }

    @Override
    public void putIntVolatile(long offset, int value) {
      checkOpen();
      bar.putIntVolatile(offset, value);
    }

    @Override
    public long getLongVolatile(long offset) {
      checkOpen();
      return bar.getLongVolatile(offset);
    }

    @Override
    public void putLongVolatile(long offset, long value) {
      checkOpen();
      bar.putLongVolatile(offset, value);
    }

    private void checkOpen() {
      if (closed) {
        throw new IllegalStateException(name + " is no longer mapped (its device was closed)");
      }
    }
  }
}
