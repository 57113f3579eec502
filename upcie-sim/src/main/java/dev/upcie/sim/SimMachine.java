package dev.upcie.sim;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.upcie.host.Host;
import dev.upcie.hugepages.PageSize;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciCapability;
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
public final class SimMachine implements Host {
  private final SimSysfs sysfs;
  private final Procfs procfs;
  private final Path dev;
  private final Map<PciAddress, SimDevice> devices;

  private SimMachine(SimSysfs sysfs, Procfs procfs, Path dev, Map<PciAddress, SimDevice> devices) {
    this.sysfs = sysfs;
    this.procfs = procfs;
    this.dev = dev;
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
                .interruptPin(1)
                .pciExpress()
                // QEMU 7.2's nvme_init_pci: MSI-X (65 vectors, table at BAR0+0x2000, PBA at
                // +0x3000), PM at 0x60 (no soft reset), a root-complex integrated endpoint's
                // PCI Express capability at 0x80 with function-level reset.
                .capability(0x40, PciCapability.MSIX, bytes(0x40, 0, 0, 0x20, 0, 0, 0, 0x30, 0, 0))
                .capability(0x80, PciCapability.PCI_EXPRESS, nvmeExpressCapability())
                .capability(0x60, PciCapability.POWER_MANAGEMENT, bytes(0x03, 0, 0x08, 0, 0, 0))
                .build(),
            new SimNvmeController())
        .function(
            q35("0000:00:06.0", 0x1234, 0x11e8, 0x00ff00, 0x10, 6)
                .bar(0, 1 << 20)
                .interruptPin(1)
                // QEMU 7.2's edu: one MSI vector, 64-bit addresses, no per-vector masking.
                .capability(0x40, PciCapability.MSI, bytes(0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
                .build())
        .function(q35("0000:00:1f.0", 0x8086, 0x2918, 0x060100, 2, 7).build())
        .function(q35("0000:00:1f.2", 0x8086, 0x2922, 0x010601, 2, 7).bar(5, 4 << 10).build())
        .function(q35("0000:00:1f.3", 0x8086, 0x2930, 0x0c0500, 2, 7).build())
        .hugepages(PageSize.parse("2M"), 768)
        .hugepages(PageSize.parse("1G"), 1)
        .memory(2L << 30)
        .build();
  }

  /** The simulated sysfs, for {@link PciBus}, {@link dev.upcie.pci.PciDriverBinder} and tools. */
  @Override
  public SimSysfs sysfs() {
    return sysfs;
  }

  /**
   * The simulated {@code /proc}: {@code meminfo} (the memory size and the default hugepage size),
   * no mounts, an 8 MiB locked-memory limit, and a {@code sys/vm/compact_memory} that accepts
   * writes and does nothing.
   */
  @Override
  public Procfs procfs() {
    return procfs;
  }

  /**
   * The simulated {@code /dev}: an empty directory on the machine's in-memory file system, so that
   * no backend mistakes this machine's device nodes for the real machine's.
   */
  @Override
  public Path dev() {
    return dev;
  }

  /** The PCI functions of this machine. */
  @Override
  public PciBus bus() {
    return new PciBus(sysfs);
  }

  /** True if {@code address} has a device model behind it, so {@link #open} can open it. */
  public boolean hasModel(PciAddress address) {
    return devices.containsKey(address);
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
    return new SimPciDevice(function, model, sysfs.readBytes(PciBus.dir(address) + "/config"));
  }

  @Override
  public String toString() {
    return "the simulated machine " + sysfs;
  }

  /**
   * The bytes after the header of QEMU 7.2's NVMe PCI Express capability (0x82 to 0xbb), as a guest
   * reads them: a version 2 root-complex integrated endpoint whose device capabilities have
   * function-level reset.
   */
  private static byte[] nvmeExpressCapability() {
    byte[] body = new byte[0xbc - 0x82];
    body[0x82 - 0x82] = (byte) 0x92; // PCI Express capabilities: version 2, type 9
    body[0x85 - 0x82] = (byte) 0x80; // device capabilities: role-based error reporting
    body[0x87 - 0x82] = 0x10; // device capabilities: function-level reset
    body[0x8c - 0x82] = 0x11; // link capabilities: 2.5 GT/s, x1
    body[0x8d - 0x82] = 0x04;
    body[0x92 - 0x82] = 0x11; // link status: 2.5 GT/s, x1
    body[0xa6 - 0x82] = 0x30; // device capabilities 2
    return body;
  }

  private static byte[] bytes(int... values) {
    byte[] bytes = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      bytes[i] = (byte) values[i];
    }
    return bytes;
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
      FileSystem fs = Jimfs.newFileSystem(Configuration.unix());
      try {
        Files.createDirectories(fs.getPath("/dev"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new SimMachine(sysfs.build(), procfs(fs), fs.getPath("/dev"), devices);
    }

    private Procfs procfs(FileSystem fs) {
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
        Files.writeString(proc.resolve("self/status"), "VmLck:\t       0 kB\n");
        Files.writeString(proc.resolve("sys/vm/compact_memory"), "");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return Procfs.of(proc);
    }
  }
}
