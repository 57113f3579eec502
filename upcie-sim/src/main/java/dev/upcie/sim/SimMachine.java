package dev.upcie.sim;

import dev.upcie.host.Host;
import dev.upcie.hugepages.PageSize;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciResource;
import dev.upcie.pci.PciSelector;
import dev.upcie.procfs.Procfs;
import dev.upcie.sim.edu.EduModel;
import dev.upcie.sim.iommu.SimIommu;
import dev.upcie.sim.mmio.RegisterFile;
import dev.upcie.sim.model.DeviceModel;
import dev.upcie.sim.model.RealTime;
import dev.upcie.sim.model.Scheduler;
import dev.upcie.sim.model.VirtualTime;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.nvme.NvmeOptions;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import dev.upcie.sim.sysfs.SimSysfs;
import dev.upcie.sim.sysfs.SysfsRecording;
import dev.upcie.sim.trace.Trace;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A simulated machine: a kernel-like sysfs, the device models behind its functions, an IOMMU
 * between them and memory, and a clock. Its sysfs, {@code /dev} and devices are one world: a
 * function bound to {@code vfio-pci} has its group node, and only such a function opens.
 *
 * <p>{@link #qemuQ35()} is the QEMU guest the integration tests boot: {@code QemuVfioIT} compares
 * it with what {@code upcie devbind list} reports inside that guest, so a test that passes here
 * meets the same functions there; {@link #qemuQ35Vfio()} is that guest after its NVMe controller
 * and {@code edu} were bound to {@code vfio-pci}, as the guest tests run.
 *
 * <pre>{@code
 * try (SimMachine machine = SimMachine.qemuQ35Vfio();
 *     PciDeviceHandle edu = machine.open(PciAddress.parse("0000:00:06.0"))) {
 *   long id = edu.bar(0).read(EduRegisters.ID);
 *   System.out.println(machine.trace());
 * }
 * }</pre>
 */
public final class SimMachine implements Host, AutoCloseable {
  private static final AtomicInteger MACHINES = new AtomicInteger();

  private final SimSysfs sysfs;
  private final Procfs procfs;
  private final Path dev;
  private final SimIommu iommu;
  private final Scheduler scheduler;
  private final Trace trace;
  private final Map<PciAddress, AttachedDevice> devices;

  private SimMachine(Builder b, SimSysfs sysfs, Procfs procfs, Path dev) {
    this.sysfs = sysfs;
    this.procfs = procfs;
    this.dev = dev;
    this.iommu = new SimIommu();
    this.scheduler =
        b.virtualTime ? new VirtualTime() : new RealTime("machine " + MACHINES.incrementAndGet());
    this.trace = new Trace(b.traceCapacity, scheduler::nanoTime);
    Map<PciAddress, AttachedDevice> attached = new LinkedHashMap<>();
    b.models.forEach((address, model) -> checkBars(sysfs, address, model));
    b.models.forEach((address, model) ->
        attached.put(
            address,
            new AttachedDevice(
                address,
                model,
                sysfs.readBytes(PciBus.dir(address) + "/config"),
                iommu,
                scheduler,
                trace)));
    this.devices = java.util.Collections.unmodifiableMap(new java.util.TreeMap<>(attached));
    devices.forEach((address, device) -> sysfs.attachHardware(address, device.hardware()));
    DeviceNodes nodes = new DeviceNodes(sysfs, dev);
    nodes.sync();
    sysfs.onBindingChange(nodes::sync);
  }

  /** A model's BARs must be the sizes sysfs shows, or a driver would map one and miss the other. */
  private static void checkBars(SimSysfs sysfs, PciAddress address, DeviceModel model) {
    if (!sysfs.exists(PciBus.dir(address))) {
      throw new IllegalArgumentException(
          "no function at " + address + " to put " + model.getClass().getSimpleName() + " behind");
    }
    List<PciResource> table = PciResource.parse(sysfs.read(PciBus.dir(address) + "/resource"));
    for (int i = 0; i < 6; i++) {
      long shown = i < table.size() ? table.get(i).size() : 0;
      long served = model.bar(i).map(RegisterFile::size).orElse(0L);
      if (shown != served) {
        throw new IllegalArgumentException(
            String.format(
                "%s serves BAR%d of %d bytes but %s has %d there: it is not the device this model"
                    + " simulates; put no model behind it, or one that declares its BARs",
                model.getClass().getSimpleName(), i, served, address, shown));
      }
    }
  }

  /** Starts an empty machine. */
  public static Builder builder() {
    return new Builder(SimSysfs.builder());
  }

  /**
   * A machine whose sysfs is a recording's (see {@link SysfsRecording} for what is derived), with
   * no device models yet: add them with {@link Builder#model}.
   */
  public static Builder recorded(SysfsRecording recording) {
    return new Builder(recording.builder());
  }

  /**
   * The machine a {@code umockdev-record} recording shows, with a model behind each function the
   * simulator has one for: {@link NvmeModel} behind QEMU's NVMe ({@code 1b36:0010}) and {@link
   * EduModel} behind {@code edu} ({@code 1234:11e8}). Real time.
   *
   * @throws dev.upcie.support.UpcieException if the file is not a recording of PCI functions
   */
  public static SimMachine fromRecording(Path file) {
    return fromRecordingBuilder(file, NvmeOptions.defaults()).build();
  }

  /**
   * The builder of {@link #fromRecording}, with {@code nvme}'s options for the NVMe controllers: to
   * choose virtual time, or add devices.
   *
   * @throws dev.upcie.support.UpcieException if the file is not a recording of PCI functions
   */
  public static Builder fromRecordingBuilder(Path file, NvmeOptions nvme) {
    SysfsRecording recording = SysfsRecording.load(file);
    Builder builder = recorded(recording);
    for (PciAddress address : recording.functions()) {
      PciId id = recording.id(address);
      if (id.equals(NvmeModel.PCI_ID)) {
        builder.model(address, new NvmeModel(nvme));
      } else if (id.equals(EduModel.PCI_ID)) {
        builder.model(address, new EduModel());
      }
    }
    return builder;
  }

  /**
   * QEMU 7.2's q35 machine with intel-iommu, as the integration tests boot it: host bridge, VGA,
   * e1000e, two virtio-9p functions, an NVMe controller at {@code 0000:00:05.0} (bound to {@code
   * nvme}, with an {@link NvmeModel} behind it), an {@code edu} device at {@code 0000:00:06.0} with
   * no driver (an {@link EduModel} behind it), and the ICH9 functions; every function in its IOMMU
   * group. Drivers loaded: {@code virtio-pci}, {@code nvme}, {@code vfio-pci}, {@code
   * uio_pci_generic}. Hugepage pools of 2M and 1G on one node, empty, able to grow to 768 and 1
   * pages: about what a 2 GiB guest can give. Real time.
   */
  public static SimMachine qemuQ35() {
    return qemuQ35Builder("nvme", null).build();
  }

  /**
   * {@link #qemuQ35()} after its NVMe controller and {@code edu} were bound to {@code vfio-pci}, as
   * the guest tests and the recording {@code qemu-q35-iommu-vfio} have them: what the {@code sim}
   * backend serves by default.
   */
  public static SimMachine qemuQ35Vfio() {
    return qemuQ35Builder("vfio-pci", "vfio-pci").build();
  }

  /**
   * The builder of {@link #qemuQ35()}, with the NVMe controller on {@code nvmeDriver} and {@code
   * edu} on {@code eduDriver} (null for none), each with {@code driver_override} naming the driver
   * unless it is the function's own: to add devices, or to choose virtual time.
   */
  public static Builder qemuQ35Builder(String nvmeDriver, String eduDriver) {
    return qemuQ35Builder(nvmeDriver, eduDriver, NvmeOptions.defaults());
  }

  /** {@link #qemuQ35Builder(String, String)} with an NVMe controller built with {@code nvme}. */
  public static Builder qemuQ35Builder(String nvmeDriver, String eduDriver, NvmeOptions nvme) {
    // A function on another driver than its own got there through a binder, which leaves
    // driver_override naming it (as the recording qemu-q35-iommu-vfio shows).
    SimFunction.Builder nvmeFunction = q35("0000:00:05.0", 5).driver(nvmeDriver);
    if (!nvmeDriver.equals("nvme")) {
      nvmeFunction.driverOverride(nvmeDriver);
    }
    SimFunction.Builder edu = q35("0000:00:06.0", 6);
    if (eduDriver != null) {
      edu.driver(eduDriver).driverOverride(eduDriver);
    }
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
        .device(nvmeFunction, new NvmeModel(nvme))
        .device(edu, new EduModel())
        .function(q35("0000:00:1f.0", 0x8086, 0x2918, 0x060100, 2, 7).build())
        .function(q35("0000:00:1f.2", 0x8086, 0x2922, 0x010601, 2, 7).bar(5, 4 << 10).build())
        .function(q35("0000:00:1f.3", 0x8086, 0x2930, 0x0c0500, 2, 7).build())
        .hugepages(PageSize.parse("2M"), 768)
        .hugepages(PageSize.parse("1G"), 1)
        .memory(2L << 30);
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
   * The simulated {@code /dev}, on the machine's in-memory file system so that no backend mistakes
   * it for the real one: {@code vfio/vfio} while {@code vfio-pci} is loaded and {@code vfio/N} for
   * each IOMMU group with a function on it, kept in step with bindings.
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
   * The model behind {@code address}, for tests that look behind the registers or inject faults.
   *
   * @throws PciException if there is none
   */
  public DeviceModel model(PciAddress address) {
    return attached(address).model();
  }

  /** The machine's IOMMU: its mappings, and the DMA faults it refused. */
  public SimIommu iommu() {
    return iommu;
  }

  /** The machine's clock, real or virtual. */
  public Scheduler scheduler() {
    return scheduler;
  }

  /**
   * The machine's virtual clock, to move time in a test.
   *
   * @throws IllegalStateException if the machine runs in real time
   */
  public VirtualTime virtualTime() {
    if (scheduler instanceof VirtualTime time) {
      return time;
    }
    throw new IllegalStateException(
        this + " runs in real time; build it with Builder.virtualTime() to move time by hand");
  }

  /** What the machine's devices did: register accesses, DMA, interrupts, notes. */
  public Trace trace() {
    return trace;
  }

  /** Why the model behind {@code address} died, empty while it lives. */
  public java.util.Optional<String> fatal(PciAddress address) {
    return attached(address).fatalReason();
  }

  /** Loads a module of the simulated kernel; see {@link SimSysfs#loadModule}. */
  @Override
  public void loadModule(String module) {
    sysfs().loadModule(module);
  }

  /**
   * Opens the simulated function at {@code address} for a driver, whatever driver it is bound to:
   * the sim backend checks the binding first, as the vfio backend does.
   *
   * @throws PciException if there is no such function, or no device model behind it
   * @throws IllegalStateException if its model is dead or it was removed
   */
  public SimPciDeviceHandle open(PciAddress address) {
    return open(bus().function(address));
  }

  /** Opens {@code function}, just read from this machine's sysfs (the sim backend reads it). */
  SimPciDeviceHandle open(PciFunction function) {
    SimPciDeviceHandle handle =
        new SimPciDeviceHandle(function, attached(function.address()), iommu);
    handle.checkOpen();
    return handle;
  }

  /**
   * Surprise-removes the function at {@code address}, as a hot unplug does: its BARs read all-ones,
   * its DMA and interrupts stop, and sysfs loses it, so a driver's next access finds it gone.
   */
  public void unplug(PciAddress address) {
    AttachedDevice device = devices.get(address);
    if (device != null) {
      device.remove();
    }
    sysfs.unplug(address);
  }

  /** Stops the machine's clock: device work not yet run is dropped. */
  @Override
  public void close() {
    if (scheduler instanceof RealTime time) {
      time.close();
    }
  }

  private AttachedDevice attached(PciAddress address) {
    AttachedDevice device = devices.get(address);
    if (device == null) {
      throw new PciException(
          "the simulator has no device model behind "
              + address
              + "; functions with one: "
              + devices.keySet());
    }
    return device;
  }

  @Override
  public String toString() {
    return "the simulated machine " + sysfs;
  }

  private static SimFunction.Builder q35(String address, int group) {
    return SimFunction.builder(address).subsystem(0x1af4, 0x1100).iommuGroup(group);
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
    private final SimSysfs.Builder sysfs;
    private final Map<PciAddress, DeviceModel> models = new LinkedHashMap<>();
    private PageSize defaultHugepageSize = PageSize.parse("2M");
    private long memory = 1L << 30;
    private boolean virtualTime;
    private int traceCapacity = Trace.DEFAULT_CAPACITY;

    private Builder(SimSysfs.Builder sysfs) {
      this.sysfs = sysfs;
    }

    /**
     * Makes a driver's module available but not loaded: binding to it loads it first, as {@code
     * modprobe} does.
     */
    public Builder module(SimDriver driver) {
      sysfs.module(driver);
      return this;
    }

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

    /**
     * Adds a function with {@code model} behind it: {@code placement} says where it sits (address,
     * driver, IOMMU group, NUMA node), the model declares the rest. {@link #build()} checks that
     * the model serves the BARs it declares.
     */
    public Builder device(SimFunction.Builder placement, DeviceModel model) {
      SimFunction function = model.declare(placement).build();
      sysfs.function(function);
      models.put(function.address(), model);
      return this;
    }

    /**
     * Puts {@code model} behind a function already added (from a recording, say). Its BARs must
     * have the sizes the function's {@code resource} shows; the build checks them.
     */
    public Builder model(PciAddress address, DeviceModel model) {
      if (models.putIfAbsent(address, model) != null) {
        throw new IllegalArgumentException("two models behind " + address);
      }
      return this;
    }

    /**
     * Runs the machine in {@link VirtualTime}: device work happens only when a test moves the
     * clock, or a driver waits for an interrupt. Real time unless set.
     */
    public Builder virtualTime() {
      this.virtualTime = true;
      return this;
    }

    /** How many events the trace keeps; {@link Trace#DEFAULT_CAPACITY} unless set. */
    public Builder traceCapacity(int events) {
      this.traceCapacity = events;
      return this;
    }

    /** The machine. */
    public SimMachine build() {
      // One in-memory file system holds the machine's /sys, /dev and /proc.
      FileSystem fs = SimSysfs.newFileSystem();
      try {
        Files.createDirectories(fs.getPath("/dev"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return new SimMachine(this, sysfs.build(fs.getPath("/sys")), procfs(fs), fs.getPath("/dev"));
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
