package dev.upcie.vfio;

import dev.upcie.dma.DmaSpace;
import dev.upcie.host.Host;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.kernel.Cleanup;
import dev.upcie.kernel.FileConfigSpace;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciConfigRegisters;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.support.NotSupportedException;
import dev.upcie.support.Sizes;
import dev.upcie.sys.SystemCalls;
import java.lang.foreign.Arena;

/**
 * A PCI function opened through VFIO type1: a device descriptor from its group, attached to the
 * process's shared container, with BARs mapped on demand, the config region, IOMMU-mapped DMA,
 * eventfd interrupts and {@code VFIO_DEVICE_RESET}.
 *
 * <p>BAR mappings live in a shared arena, so a driver thread and an interrupt thread may both use
 * them; {@link #close()} disables interrupts, unmaps them and releases the group (and, with the
 * last device, the container); later accesses throw.
 */
final class VfioPciDevice implements PciDeviceHandle {
  private static final int BAR_COUNT = 6;

  private final PciFunction function;
  private final VfioContainer container;
  private final VfioGroup group;
  private final VfioDevice device;
  private final int flags;
  private final Arena arena;
  private final Mmio[] bars = new Mmio[BAR_COUNT];
  private final ConfigSpace config;
  private final VfioInterrupts interrupts;
  private final VfioDmaSpace dma;
  private volatile boolean closed;

  private VfioPciDevice(
      PciFunction function,
      Host host,
      VfioContainer container,
      VfioGroup group,
      VfioDevice device,
      Arena arena) {
    this.function = function;
    this.arena = arena;
    this.container = container;
    this.group = group;
    this.device = device;
    this.flags = device.flags();
    VfioRegionInfo region = device.regionInfo(VfioAbi.PCI_CONFIG_REGION_INDEX);
    this.config =
        new FileConfigSpace(
            "config space of " + function.address(),
            device.calls(),
            device.fd(),
            region.offset(),
            (int) region.size(),
            arena);
    this.interrupts = new VfioInterrupts(device, function.address() + " (" + function.id() + ")");
    this.dma = new VfioDmaSpace(this, container, host, 64);
  }

  /**
   * Opens {@code function}, which the backend's preflight found bound to vfio-pci in a viable
   * group: the container of the host, the function's group, and the device descriptor.
   */
  static VfioPciDevice open(PciFunction function, Host host) {
    SystemCalls calls = SystemCalls.of(host);
    VfioContainer container = VfioContainer.acquire(calls, host.dev());
    VfioGroup group = null;
    VfioDevice device = null;
    Arena arena = Arena.ofShared();
    try {
      group = container.group(function.iommuGroup().getAsInt(), host.dev());
      device = group.openDevice(function.address());
      return new VfioPciDevice(function, host, container, group, device, arena);
    } catch (RuntimeException e) {
      arena.close();
      if (device != null) {
        device.close();
      }
      if (group != null) {
        group.release();
      }
      container.release();
      throw e;
    }
  }

  @Override
  public PciFunction function() {
    return function;
  }

  @Override
  public String backend() {
    return VfioBackend.NAME;
  }

  @Override
  public synchronized Mmio bar(int index) {
    checkOpen();
    if (index < 0 || index >= BAR_COUNT) {
      throw new IllegalArgumentException("BAR index must be 0 to 5: " + index);
    }
    if (bars[index] == null) {
      VfioRegionInfo region = device.regionInfo(VfioAbi.PCI_BAR0_REGION_INDEX + index);
      String name = "BAR" + index + " of " + function.address();
      if (region.size() == 0) {
        throw new PciException(
            name
                + " is not implemented by the device"
                + (holdsUpperHalf(index)
                    ? " (it holds the upper half of 64-bit BAR" + (index - 1) + ")"
                    : ""));
      }
      if (!region.mappable()) {
        throw new PciException(
            name
                + " ("
                + Sizes.human(region.size())
                + ") cannot be memory-mapped: it is an I/O-port BAR, or VFIO does not allow mmap"
                + " of it");
      }
      bars[index] = Mmio.of(name, device.map(region, arena));
    }
    return bars[index];
  }

  @Override
  public ConfigSpace config() {
    checkOpen();
    return config;
  }

  @Override
  public DmaSpace dma() {
    checkOpen();
    return dma;
  }

  @Override
  public Interrupts interrupts() {
    checkOpen();
    return interrupts;
  }

  @Override
  public boolean canReset() {
    return (flags & VfioAbi.DEVICE_FLAGS_RESET) != 0;
  }

  @Override
  public void reset() {
    checkOpen();
    if (!canReset()) {
      throw new NotSupportedException(
          function.summary()
              + " has no reset method VFIO can use (no function-level reset, no power-management"
              + " reset, no bus reset it may do alone)");
    }
    device.reset();
  }

  /**
   * True if BAR {@code index - 1} is a 64-bit memory BAR, whose upper half is in slot {@code
   * index}.
   */
  private boolean holdsUpperHalf(int index) {
    if (index == 0) {
      return false;
    }
    int lower = config.read32((int) PciConfigRegisters.BAR0.offset() + 4 * (index - 1));
    return (lower & 0x1) == 0 && (lower & 0x6) == 0x4;
  }

  SystemCalls calls() {
    return device.calls();
  }

  void checkOpen() {
    if (closed) {
      throw new IllegalStateException(function.address() + " is closed");
    }
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    // Stop the device first, then take its interrupts, mappings, descriptor and group away.
    Cleanup.all(
        config::disableBusMaster,
        interrupts::disable,
        arena::close,
        device::close,
        group::release,
        container::release);
  }

  @Override
  public String toString() {
    return "VfioPciDevice[" + function.summary() + ", group " + group.number() + "]";
  }
}
