package dev.upcie.sim;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.upcie.hugepages.PageSize;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.procfs.Procfs;
import dev.upcie.sim.nvme.SimNvmeController;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import dev.upcie.sim.sysfs.SimSysfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A simulated machine: a kernel-like sysfs and the device models behind its functions.
 *
 * <p>{@link #qemuQ35()} is the QEMU guest the integration tests boot: {@code QemuVfioIT} compares
 * it with what {@code upcie devbind list} reports inside that guest, so a test that passes here
 * meets the same functions there.
 *
 * <pre>{@code
 * SimMachine machine = SimMachine.qemuQ35();
 * PciFunction nvme = machine.bus().select(PciSelector.any().withClass(PciClassCode.NVME)).get(0);
 * try (PciDeviceHandle device = machine.open(nvme.address())) {
 *   long cap = device.bar(0).getLongVolatile(0x0);
 * }
 * }</pre>
 */
public final class SimMachine {
  private final SimSysfs sysfs;
  private final Procfs procfs;
  private final Map<PciAddress, SimDevice> devices;

  private SimMachine(SimSysfs sysfs, Procfs procfs, Map<PciAddress, SimDevice> devices) {
    this.sysfs = sysfs;
    this.procfs = procfs;
    this.devices = Map.copyOf(devices);
  }

  /** Starts an empty machine. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * QEMU 7.2's q35 machine with intel-iommu, as the integration tests boot it: host bridge, VGA,
   * e1000e, two virtio-9p functions, an NVMe controller at {@code 0000:00:05.0} (bound to {@code
   * nvme}, with a {@link SimNvmeController} behind it), an {@code edu} device at {@code
   * 0000:00:06.0} with no driver, and the ICH9 functions; every function in its IOMMU group.
   * Drivers loaded: {@code virtio-pci}, {@code nvme}, {@code vfio-pci}, {@code uio_pci_generic}.
   * Hugepage pools of 2M and 1G on one node, empty, able to grow to 768 and 1 pages: about what a 2
   * GiB guest can give.
   */
  public static SimMachine qemuQ35() {
    return builder()
        .driver(
            SimDriver.claiming("virtio-pci", PciSelector.any().withId(new PciId(0x1af4, 0x1009))))
        .driver(SimDriver.claiming("nvme", PciSelector.any().withClass(PciClassCode.NVME)))
        .driver(SimDriver.overrideOnly("vfio-pci"))
        .driver(SimDriver.overrideOnly("uio_pci_generic"))
        .function(q35("0000:00:00.0", 0x8086, 0x29c0, 0x060000, 0, 0).build())
        .function(q35("0000:00:01.0", 0x1234, 0x1111, 0x030000, 2, 1).bar(0, 16 << 20).build())
        .function(
            q35("0000:00:02.0", 0x8086, 0x10d3, 0x020000, 0, 2)
                .subsystem(0x8086, 0x0000)
                .bar(0, 128 << 10)
                .build())
        .function(
            q35("0000:00:03.0", 0x1af4, 0x1009, 0x000200, 0, 3)
                .subsystem(0x1af4, 0x0009)
                .driver("virtio-pci")
                .bar64(4, 16 << 10)
                .build())
        .function(
            q35("0000:00:04.0", 0x1af4, 0x1009, 0x000200, 0, 4)
                .subsystem(0x1af4, 0x0009)
                .driver("virtio-pci")
                .bar64(4, 16 << 10)
                .build())
        .device(
            q35("0000:00:05.0", SimNvmeController.VENDOR, SimNvmeController.DEVICE, 0x010802, 2, 5)
                .driver("nvme")
                .bar64(0, SimNvmeController.BAR0_SIZE)
                .build(),
            new SimNvmeController())
        .function(q35("0000:00:06.0", 0x1234, 0x11e8, 0x00ff00, 0x10, 6).bar(0, 1 << 20).build())
        .function(q35("0000:00:1f.0", 0x8086, 0x2918, 0x060100, 2, 7).build())
        .function(q35("0000:00:1f.2", 0x8086, 0x2922, 0x010601, 2, 7).bar(5, 4 << 10).build())
        .function(q35("0000:00:1f.3", 0x8086, 0x2930, 0x0c0500, 2, 7).build())
        .hugepages(PageSize.parse("2M"), 768)
        .hugepages(PageSize.parse("1G"), 1)
        .memory(2L << 30)
        .build();
  }

  /** The simulated sysfs, for {@link PciBus}, {@link dev.upcie.pci.PciDriverBinder} and tools. */
  public SimSysfs sysfs() {
    return sysfs;
  }

  /**
   * The simulated {@code /proc}: {@code meminfo} (the memory size and the default hugepage size),
   * no mounts, an 8 MiB locked-memory limit, and a {@code sys/vm/compact_memory} that accepts
   * writes and does nothing.
   */
  public Procfs procfs() {
    return procfs;
  }

  /** The PCI functions of this machine. */
  public PciBus bus() {
    return new PciBus(sysfs);
  }

  /**
   * Opens the simulated function at {@code address} for a driver.
   *
   * @throws PciException if there is no such function, or no device model behind it
   */
  public SimPciDevice open(PciAddress address) {
    PciFunction function = bus().function(address);
    SimDevice model = devices.get(address);
    if (model == null) {
      throw new PciException(
          "the simulator has no device model behind "
              + function.summary()
              + "; functions with one: "
              + devices.keySet());
    }
    return new SimPciDevice(function, model);
  }

  private static SimFunction.Builder q35(
      String address, int vendor, int device, int classCode, int revision, int group) {
    return SimFunction.builder(address)
        .id(vendor, device)
        .subsystem(0x1af4, 0x1100)
        .classCode(classCode)
        .revision(revision)
        .iommuGroup(group);
  }

  /** Builds a {@link SimMachine}: drivers, functions, device models, hugepage pools. */
  public static final class Builder {
    private final SimSysfs.Builder sysfs = SimSysfs.builder();
    private final Map<PciAddress, SimDevice> devices = new LinkedHashMap<>();
    private PageSize defaultHugepageSize = PageSize.parse("2M");
    private long memory = 1L << 30;

    private Builder() {}

    /** Loads a driver. */
    public Builder driver(SimDriver driver) {
      sysfs.driver(driver);
      return this;
    }

    /** Adds a function with no device model (it is listed but cannot be opened). */
    public Builder function(SimFunction function) {
      sysfs.function(function);
      return this;
    }

    /** The machine's memory, as {@code MemTotal} in {@code /proc/meminfo} shows it. */
    public Builder memory(long bytes) {
      this.memory = bytes;
      return this;
    }

    /** The default hugepage size, {@code Hugepagesize} in {@code /proc/meminfo} (2M unless set). */
    public Builder defaultHugepageSize(PageSize size) {
      this.defaultHugepageSize = size;
      return this;
    }

    /** Gives the machine a hugepage pool; see {@link SimSysfs.Builder#hugepages}. */
    public Builder hugepages(PageSize size, long... capacityPerNode) {
      sysfs.hugepages(size, capacityPerNode);
      return this;
    }

    /** Adds a function with {@code model} behind its BARs. */
    public Builder device(SimFunction function, SimDevice model) {
      sysfs.function(function);
      devices.put(function.address(), model);
      return this;
    }

    /** The machine. */
    public SimMachine build() {
      return new SimMachine(sysfs.build(), procfs(), devices);
    }

    private Procfs procfs() {
      FileSystem fs = Jimfs.newFileSystem(Configuration.unix());
      Path proc = fs.getPath("/proc");
      try {
        Files.createDirectories(proc.resolve("self"));
        Files.createDirectories(proc.resolve("sys/vm"));
        Files.writeString(
            proc.resolve("meminfo"),
            String.format(
                "MemTotal:       %d kB\nHugepagesize:   %d kB\n",
                memory >> 10, defaultHugepageSize.kilobytes()));
        Files.writeString(proc.resolve("mounts"), "");
        Files.writeString(
            proc.resolve("self/limits"),
            "Max locked memory         8388608              8388608              bytes\n");
        Files.writeString(proc.resolve("sys/vm/compact_memory"), "");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return Procfs.of(proc);
    }
  }
}
