package dev.upcie.vfio;

import dev.upcie.mmio.Mmio;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.support.Sizes;
import dev.upcie.sysfs.Sysfs;
import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A PCI function opened through VFIO type1: container, group and device, with its BARs mapped on
 * demand.
 *
 * <p>The function must already be bound to {@code vfio-pci} (see {@link
 * dev.upcie.pci.PciDriverBinder}) and the kernel must run with an IOMMU. Opening checks both and
 * says what to do when either is missing.
 *
 * <pre>{@code
 * try (VfioPciDevice nvme = VfioPciDevice.open(Sysfs.system(), PciAddress.parse("0000:01:00.0"))) {
 *   long cap = nvme.bar(0).getLongVolatile(0x0);
 * }
 * }</pre>
 *
 * <p>BAR mappings live in a shared arena, so a driver thread and an interrupt thread may both use
 * them; {@link #close()} unmaps them, and later accesses throw.
 */
public final class VfioPciDevice implements PciDeviceHandle {
  /** The driver a function must be bound to. */
  public static final String DRIVER = "vfio-pci";

  private static final int BAR_COUNT = 6;
  // Drivers that leave a group usable by VFIO: vfio-pci itself, the stub, and bridges' port driver.
  private static final Set<String> VIABLE_DRIVERS = Set.of(DRIVER, "pci-stub", "pcieport");

  private final PciFunction function;
  private final VfioContainer container;
  private final VfioGroup group;
  private final VfioDevice device;
  private final Arena mappings = Arena.ofShared();
  private final Mmio[] bars = new Mmio[BAR_COUNT];
  private boolean closed;

  private VfioPciDevice(
      PciFunction function, VfioContainer container, VfioGroup group, VfioDevice device) {
    this.function = function;
    this.container = container;
    this.group = group;
    this.device = device;
  }

  /**
   * Opens the function at {@code address}.
   *
   * @param sysfs where to look the function up (normally {@link Sysfs#system()})
   * @throws PciException if there is no such function
   * @throws VfioException if it is not bound to vfio-pci, has no IOMMU group, or VFIO refuses
   */
  public static VfioPciDevice open(Sysfs sysfs, PciAddress address) {
    PciFunction function = new PciBus(sysfs).function(address);
    if (!function.isBoundTo(DRIVER)) {
      throw new VfioException(
          address
              + " is "
              + function.driver().map(d -> "bound to " + d).orElse("bound to no driver")
              + ", not "
              + DRIVER
              + ": bind it first (as root): "
              + bindCommands(address, function.driver().isPresent()));
    }
    if (function.iommuGroup().isEmpty()) {
      throw new VfioException(
          address
              + " has no IOMMU group: the kernel runs without an IOMMU; boot with intel_iommu=on"
              + " (or amd_iommu=on), or use UIO instead of VFIO");
    }
    requireViable(sysfs, function.iommuGroup().getAsInt(), address);
    VfioContainer container = VfioContainer.open();
    VfioGroup group = null;
    VfioDevice device = null;
    try {
      group = VfioGroup.open(function.iommuGroup().getAsInt(), container);
      device = group.openDevice(address);
      device.regionCount();
      return new VfioPciDevice(function, container, group, device);
    } catch (RuntimeException e) {
      closeQuietly(device);
      closeQuietly(group);
      container.close();
      throw e;
    }
  }

  /** The shell commands that move {@code address} to vfio-pci, the way the binder does it. */
  private static String bindCommands(PciAddress address, boolean bound) {
    String dir = "/sys/bus/pci/devices/" + address;
    return "echo "
        + DRIVER
        + " > "
        + dir
        + "/driver_override"
        + (bound ? " && echo " + address + " > " + dir + "/driver/unbind" : "")
        + " && echo "
        + address
        + " > /sys/bus/pci/drivers_probe";
  }

  /**
   * The kernel hands out a group only if every device in it is on vfio-pci, a stub, or nothing;
   * name the devices that are not, which the kernel's refusal does not.
   */
  private static void requireViable(Sysfs sysfs, int group, PciAddress address) {
    String devices = "kernel/iommu_groups/" + group + "/devices";
    if (!sysfs.exists(devices)) {
      return;
    }
    PciBus bus = new PciBus(sysfs);
    List<String> blocking = new ArrayList<>();
    for (String name : sysfs.list(devices)) {
      if (!PciAddress.isAddress(name)) {
        continue;
      }
      bus.find(PciAddress.parse(name))
          .flatMap(PciFunction::driver)
          .filter(driver -> !VIABLE_DRIVERS.contains(driver))
          .ifPresent(driver -> blocking.add(name + " (bound to " + driver + ")"));
    }
    if (!blocking.isEmpty()) {
      throw new VfioException(
          "IOMMU group "
              + group
              + " of "
              + address
              + " is not viable: "
              + String.join(", ", blocking)
              + " must be bound to vfio-pci or unbound too");
    }
  }

  @Override
  public PciFunction function() {
    return function;
  }

  @Override
  public String backend() {
    return "vfio";
  }

  /** The IOMMU group this device was opened through. */
  public int iommuGroup() {
    return group.number();
  }

  @Override
  public synchronized Mmio bar(int index) {
    if (closed) {
      throw new IllegalStateException(function.address() + " is closed");
    }
    if (index < 0 || index >= BAR_COUNT) {
      throw new IllegalArgumentException("BAR index must be 0 to 5: " + index);
    }
    if (bars[index] == null) {
      VfioRegionInfo region = device.regionInfo(VfioAbi.PCI_BAR0_REGION_INDEX + index);
      String name = "BAR" + index + " of " + function.address();
      if (region.size() == 0) {
        throw new PciException(name + " is not implemented by the device");
      }
      if (!region.mappable()) {
        throw new PciException(
            name
                + " ("
                + Sizes.human(region.size())
                + ") cannot be memory-mapped: it is an I/O-port BAR or VFIO does not allow mmap"
                + " of it");
      }
      bars[index] = Mmio.of(name, device.map(region, mappings));
    }
    return bars[index];
  }

  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      mappings.close();
    } finally {
      device.close();
      group.close();
      container.close();
    }
  }

  @Override
  public String toString() {
    return "VfioPciDevice[" + function.summary() + ", group " + group.number() + "]";
  }

  private static void closeQuietly(AutoCloseable resource) {
    if (resource == null) {
      return;
    }
    try {
      resource.close();
    } catch (Exception e) {
      // The open failure that brought us here is the one worth reporting.
    }
  }
}
