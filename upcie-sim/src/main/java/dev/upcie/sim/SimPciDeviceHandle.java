package dev.upcie.sim;

import dev.upcie.dma.DmaSpace;
import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.sim.iommu.SimIommu;
import dev.upcie.sim.model.DeviceModel;
import dev.upcie.support.NotSupportedException;
import java.util.Optional;

/**
 * A simulated function opened for a driver: the same {@link PciDeviceHandle} a driver gets from
 * VFIO, in front of a {@link DeviceModel}.
 *
 * <p>It has the model's BARs, the function's configuration space, DMA through the machine's
 * simulated IOMMU, the model's interrupts and its reset. Like the real handle, everything throws
 * once it is closed; and once the model is fatal (a transfer that would abort QEMU) or the device
 * was surprise-removed, the handle says so: BARs then read all ones, as a vanished device does on
 * the bus, and everything else throws with the reason.
 */
public final class SimPciDeviceHandle implements PciDeviceHandle {
  private final PciFunction function;
  private final AttachedDevice device;
  private final SimIommu iommu;
  private final ConfigSpace config;
  private final Interrupts interrupts;
  private volatile boolean closed;

  SimPciDeviceHandle(PciFunction function, AttachedDevice device, SimIommu iommu) {
    this.function = function;
    this.device = device;
    this.iommu = iommu;
    this.config = new HandleConfigSpace();
    this.interrupts = new HandleInterrupts();
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
  public DeviceModel model() {
    return device.model();
  }

  @Override
  public Mmio bar(int index) {
    checkOpen();
    if (index < 0 || index > 5) {
      throw new IllegalArgumentException("BAR index must be 0 to 5: " + index);
    }
    Mmio bar =
        device
            .bar(index)
            .orElseThrow(() ->
                new PciException(
                    "BAR" + index + " of " + function.address() + " is not implemented"));
    return new HandleMmio(bar, index);
  }

  @Override
  public ConfigSpace config() {
    checkOpen();
    return config;
  }

  @Override
  public DmaSpace dma() {
    checkOpen();
    return new SimDmaSpace(this, iommu, 64);
  }

  @Override
  public Interrupts interrupts() {
    checkOpen();
    return interrupts;
  }

  @Override
  public boolean canReset() {
    return device.model().resettable();
  }

  @Override
  public void reset() {
    checkOpen();
    if (!device.model().resettable()) {
      throw new NotSupportedException(function.summary() + " (sim) has no reset method");
    }
    device.model().reset();
  }

  /**
   * Throws if the handle is closed, the device was removed, or its model is fatal.
   *
   * @throws IllegalStateException saying which
   */
  void checkOpen() {
    if (closed) {
      throw new IllegalStateException(function.address() + " is closed");
    }
    if (device.removed()) {
      throw new IllegalStateException(
          function.address() + " was surprise-removed: the device is gone from the bus");
    }
    Optional<String> fatal = device.fatalReason();
    if (fatal.isPresent()) {
      throw new IllegalStateException(
          "the simulated device at " + function.address() + " is dead: " + fatal.get());
    }
  }

  /** Disables the interrupts it enabled and turns bus mastering off, as vfio-pci's release does. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    device.deviceInterrupts().disable();
    if (!device.removed()) {
      device.config().disableBusMaster();
    }
  }

  @Override
  public String toString() {
    return "SimPciDeviceHandle[" + function.summary() + "]";
  }

  /** A BAR as seen through this handle: refuses access once the handle is closed. */
  private final class HandleMmio implements Mmio {
    private final Mmio bar;
    private final String name;

    HandleMmio(Mmio bar, int index) {
      this.bar = bar;
      this.name = "BAR" + index + " of " + function.address();
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
      if (gone()) {
        Mmio.checkAccess(name, bar.size(), offset, Integer.BYTES);
        return -1;
      }
      return bar.getIntVolatile(offset);
    }

    @Override
    public void putIntVolatile(long offset, int value) {
      if (gone()) {
        Mmio.checkAccess(name, bar.size(), offset, Integer.BYTES);
        return;
      }
      bar.putIntVolatile(offset, value);
    }

    @Override
    public long getLongVolatile(long offset) {
      if (gone()) {
        Mmio.checkAccess(name, bar.size(), offset, Long.BYTES);
        return -1L;
      }
      return bar.getLongVolatile(offset);
    }

    @Override
    public void putLongVolatile(long offset, long value) {
      if (gone()) {
        Mmio.checkAccess(name, bar.size(), offset, Long.BYTES);
        return;
      }
      bar.putLongVolatile(offset, value);
    }

    /** True if the device vanished from the bus: reads give all ones, writes go nowhere. */
    private boolean gone() {
      if (closed) {
        throw new IllegalStateException(name + " is no longer mapped (its device was closed)");
      }
      return device.removed() || device.fatalReason().isPresent();
    }
  }

  /** The function's configuration space through this handle. */
  private final class HandleConfigSpace implements ConfigSpace {
    @Override
    public int size() {
      return device.config().size();
    }

    @Override
    public int read8(int offset) {
      checkOpen();
      return device.config().read8(offset);
    }

    @Override
    public int read16(int offset) {
      checkOpen();
      return device.config().read16(offset);
    }

    @Override
    public int read32(int offset) {
      checkOpen();
      return device.config().read32(offset);
    }

    @Override
    public void write8(int offset, int value) {
      checkOpen();
      device.config().write8(offset, value);
    }

    @Override
    public void write16(int offset, int value) {
      checkOpen();
      device.config().write16(offset, value);
    }

    @Override
    public void write32(int offset, int value) {
      checkOpen();
      device.config().write32(offset, value);
    }

    @Override
    public String toString() {
      return device.config().toString();
    }
  }

  /** The function's interrupts through this handle. */
  private final class HandleInterrupts implements Interrupts {
    private DeviceInterrupts irqs() {
      checkOpen();
      return device.deviceInterrupts();
    }

    @Override
    public int vectors(InterruptMode mode) {
      return irqs().vectors(mode);
    }

    @Override
    public void enable(InterruptMode mode, int count) {
      irqs().enable(mode, count);
    }

    @Override
    public Optional<InterruptMode> mode() {
      return irqs().mode();
    }

    @Override
    public int enabledVectors() {
      return irqs().enabledVectors();
    }

    @Override
    public long await(int vector, long timeoutNanos) {
      return irqs().await(vector, timeoutNanos);
    }

    @Override
    public long drain(int vector) {
      return irqs().drain(vector);
    }

    @Override
    public void unmask(int vector) {
      irqs().unmask(vector);
    }

    @Override
    public void disable() {
      if (!closed) {
        device.deviceInterrupts().disable();
      }
    }

    @Override
    public String toString() {
      return device.deviceInterrupts().toString();
    }
  }
}
