package dev.upcie.sim;

import dev.upcie.mmio.Mmio;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;

/**
 * A simulated function opened for a driver: the same handle a driver gets from VFIO, backed by a
 * {@link SimDevice} model.
 *
 * <p>Like the real handle, its BARs throw once it is closed.
 */
public final class SimPciDevice implements PciDeviceHandle {
  private final PciFunction function;
  private final SimDevice model;
  private volatile boolean closed;

  SimPciDevice(PciFunction function, SimDevice model) {
    this.function = function;
    this.model = model;
  }

  @Override
  public PciFunction function() {
    return function;
  }

  @Override
  public String backend() {
    return "sim";
  }

  /** The device model, for tests that look behind the registers or inject faults. */
  public SimDevice model() {
    return model;
  }

  @Override
  public Mmio bar(int index) {
    if (closed) {
      throw new IllegalStateException(function.address() + " is closed");
    }
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
