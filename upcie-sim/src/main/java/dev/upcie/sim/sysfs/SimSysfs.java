package dev.upcie.sim.sysfs;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.upcie.errno.Errno;
import dev.upcie.hugepages.PageSize;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciFunction;
import dev.upcie.support.EnvironmentException;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * An in-memory sysfs that lays out PCI functions as Linux does and answers writes as Linux does.
 *
 * <p>The tree lives in jimfs: {@code devices/pci0000:00/<address>} with the kernel's attributes
 * ({@code vendor device subsystem_* class revision numa_node driver_override enable resource
 * config}) and links ({@code driver}, {@code iommu_group}), {@code bus/pci/devices} linking to
 * them, {@code bus/pci/drivers/<name>} with one link per bound function, and {@code
 * kernel/iommu_groups/<n>/devices}. Reads see exactly that tree.
 *
 * <p>Writes take effect synchronously, like the kernel's stores, with the kernel's errno when
 * refused. Each function has its own lock, as in the kernel, so a store that hangs (see {@link
 * #faults()}) holds up only stores to the same function (and, for a hang inside {@code remove},
 * other functions' {@code remove} and {@code rescan}, which share one lock in the kernel too):
 *
 * <table>
 *   <caption>simulated writes</caption>
 *   <tr><th>attribute</th><th>effect</th><th>refused with</th></tr>
 *   <tr><td>{@code devices/.../driver_override}</td><td>sets it to the value up to its first
 *       newline; an empty line clears it</td><td>EINVAL: 4095 bytes or more</td></tr>
 *   <tr><td>{@code bus/pci/drivers_probe}</td><td>binds an unbound function to the first driver
 *       that matches and whose probe succeeds</td><td>ENODEV: no such function</td></tr>
 *   <tr><td>{@code bus/pci/drivers/X/bind}</td><td>binds to X</td><td>ENODEV: no such function,
 *       X does not match it, or X's probe rejects it; EBUSY: already bound; an injected
 *       errno</td></tr>
 *   <tr><td>{@code bus/pci/drivers/X/unbind}, {@code devices/.../driver/unbind}</td>
 *       <td>unbinds</td><td>ENODEV: not bound to X</td></tr>
 *   <tr><td>{@code bus/pci/drivers/X/new_id}</td><td>adds "vendor device [subvendor subdevice
 *       [class mask [data]]]" (hex) to X's ids and binds the unbound functions it matches</td>
 *       <td>EINVAL: fewer than two numbers, or data other than 0; EEXIST: X already claims that
 *       id</td></tr>
 *   <tr><td>{@code bus/pci/drivers/X/remove_id}</td><td>forgets such an id</td>
 *       <td>EINVAL: fewer than two numbers; ENODEV: no such id</td></tr>
 *   <tr><td>{@code devices/.../remove}</td><td>non-zero: unbinds and takes the function off the
 *       bus</td><td>EINVAL: not a number</td></tr>
 *   <tr><td>{@code bus/pci/rescan}, {@code devices/.../rescan}</td><td>non-zero: brings removed
 *       functions back and probes them</td><td>EINVAL: not a number</td></tr>
 *   <tr><td>{@code devices/.../reset} (only where the hardware can reset)</td><td>"1": resets
 *       the hardware behind it</td><td>EINVAL: not 1</td></tr>
 *   <tr><td>{@code devices/.../enable}</td><td>counts enables; the first turns decoding on, the
 *       last disable turns bus mastering off</td><td>EBUSY: bound to a driver; EIO: disabling
 *       what is not enabled</td></tr>
 *   <tr><td>{@code devices/.../config} ({@link #writeBytes})</td><td>reaches the hardware's
 *       configuration space, clipped to its size</td><td>EFBIG: at or beyond the end</td></tr>
 *   <tr><td>{@code .../hugepages-*kB/nr_hugepages}</td><td>grows or shrinks the pool as far as
 *       memory allows</td><td>EINVAL: not a decimal number; ERANGE: above 2^64 - 1</td></tr>
 *   <tr><td>read-only attributes ({@code vendor}, ...)</td><td></td><td>EACCES, as for root</td>
 *       </tr>
 * </table>
 *
 * <p>Binding {@code uio_pci_generic} gives the function {@code uio/uioN} (and {@code
 * class/uio/uioN}); binding {@code nvme} gives it {@code nvme/nvmeN} (and {@code
 * class/nvme/nvmeN}). {@code resourceN} files exist for each BAR but are empty: {@code resource}
 * has the sizes.
 *
 * <pre>{@code
 * SimSysfs sysfs = SimSysfs.builder()
 *     .driver(SimDriver.claiming("nvme", PciSelector.any().withClass(PciClassCode.NVME)))
 *     .driver(SimDriver.overrideOnly("vfio-pci"))
 *     .function(SimFunction.builder("0000:00:05.0").id(0x1b36, 0x0010).classCode(0x010802)
 *         .driver("nvme").iommuGroup(5).bar64(0, 16384).build())
 *     .build();
 * new PciDriverBinder(sysfs).bind(PciAddress.parse("00:05.0"), "vfio-pci");
 * }</pre>
 */
public final class SimSysfs implements Sysfs {

  private static final Pattern DRIVER_FILE =
      Pattern.compile("bus/pci/drivers/(?<driver>[^/]+)/(?<file>bind|unbind|new_id|remove_id)");
  private static final Pattern POOL_FILE =
      Pattern.compile(
          "(?:kernel/mm/hugepages|devices/system/node/node(?<node>\\d+)/hugepages)"
              + "/hugepages-(?<kb>\\d+)kB/nr_hugepages");
  // A function's own attribute, its directory under a root bus or behind bridges.
  private static final Pattern DEVICE_FILE =
      Pattern.compile(
          "devices/pci[0-9a-f]{4,8}:[0-9a-f]{2}/(?:[^/]+/)*"
              + "(?<address>[0-9a-f]{4,8}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7])/(?<file>[^/]+)");

  private final Path root;
  private final Sysfs tree;
  private final SysfsTree files;
  private final SysfsFaults faults;
  private final DriverCore core;
  private final List<SimDriver> modules;
  private final HugepagePools pools;

  private SimSysfs(
      Path root,
      DriverCore core,
      HugepagePools pools,
      SysfsFaults faults,
      List<SimDriver> modules) {
    this.modules = List.copyOf(modules);
    this.root = root;
    this.tree = Sysfs.of(root);
    this.files = new SysfsTree(root);
    this.core = core;
    this.pools = pools;
    this.faults = faults;
  }

  private static final FileTime BOOT_TIME = FileTime.from(Instant.now());

  /**
   * A fresh in-memory file system fit for simulated kernel trees: Unix-like, with small blocks
   * (attributes are a few bytes; jimfs's 8 KiB default makes a machine cost megabytes of zeros).
   */
  public static FileSystem newFileSystem() {
    return Jimfs.newFileSystem(
        Configuration.unix().toBuilder()
            .setAttributeViews("basic")
            .setBlockSize(256)
            .setMaxCacheSize(0)
            // One boot time for every file: the kernel's sysfs times say nothing either.
            .setFileTimeSource(() -> BOOT_TIME)
            .build());
  }

  /** Starts an empty machine: no drivers, no functions. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Loads the module of driver {@code name} ({@code vfio-pci} and {@code vfio_pci} are one name, as
   * to {@code modprobe}): one of {@link Builder#module}'s, or a no-op for a loaded driver.
   *
   * @throws EnvironmentException if this kernel has no such module
   */
  public void loadModule(String name) {
    String wanted = name.replace('-', '_');
    if (drivers().stream().anyMatch(d -> d.name().replace('-', '_').equals(wanted))) {
      return;
    }
    // A modalias ("pci:v...") names the module whose table claims the function that has it.
    List<PciFunction> aliased =
        name.startsWith("pci:")
            ? new PciBus(this)
                .functions().stream().filter(f -> modalias(f.address()).equals(name)).toList()
            : List.of();
    if (name.startsWith("pci:")
        && drivers().stream().anyMatch(d -> aliased.stream().anyMatch(d::claims))) {
      return;
    }
    SimDriver module =
        modules.stream()
            .filter(d ->
                d.name().replace('-', '_').equals(wanted) || aliased.stream().anyMatch(d::claims))
            .findFirst()
            .orElseThrow(() ->
                new EnvironmentException(
                    "`modprobe "
                        + name
                        + "` failed: modprobe: FATAL: Module "
                        + wanted
                        + " not found in the simulated kernel (its modules: "
                        + modules.stream().map(SimDriver::name).toList()
                        + ")"));
    core.load(module);
  }

  private String modalias(PciAddress address) {
    String file = "bus/pci/devices/" + address + "/modalias";
    return exists(file) ? read(file).strip() : "";
  }

  /** The drivers this kernel has loaded. */
  public List<SimDriver> drivers() {
    return core.drivers();
  }

  /** The faults to inject into this kernel's next stores. */
  public SysfsFaults faults() {
    return faults;
  }

  @Override
  public Path root() {
    return root;
  }

  @Override
  public String read(String path) {
    Supplier<byte[]> live = live(path);
    return live != null ? new String(live.get(), StandardCharsets.ISO_8859_1) : tree.read(path);
  }

  @Override
  public byte[] readBytes(String path) {
    Supplier<byte[]> live = live(path);
    return live != null ? live.get() : tree.readBytes(path);
  }

  /**
   * Puts {@code hardware} behind the function at {@code address}: its {@code config} attribute
   * reads and writes the hardware's configuration space from now on, and {@code reset} resets it.
   */
  public void attachHardware(PciAddress address, FunctionHardware hardware) {
    core.attachHardware(address, hardware);
  }

  /**
   * Runs {@code listener} after every store that may have changed a function's driver or presence
   * (bind, unbind, probe, new_id, remove, rescan, unplug), on the thread that made it, once the
   * store is done and no kernel lock is held. A listener that throws makes the store throw, after
   * it took effect.
   */
  public void onBindingChange(Runnable listener) {
    core.onChange(listener);
  }

  /**
   * Takes the function at {@code address} off the machine for good, as a hot unplug does: its
   * driver is unbound and its directory, links and class devices vanish; a rescan does not bring it
   * back. Does nothing if it is not there.
   */
  public void unplug(PciAddress address) {
    core.unplug(address);
  }

  private Supplier<byte[]> live(String path) {
    if (!path.endsWith("config")) {
      return null;
    }
    Path file = root.resolve(path);
    if (!Files.exists(file)) {
      return null;
    }
    Matcher device = DEVICE_FILE.matcher(files.realRelative(file));
    return device.matches() && device.group("file").equals("config")
        ? core.liveConfig(PciAddress.parse(device.group("address")))
        : null;
  }

  @Override
  public List<String> list(String directory) {
    return tree.list(directory);
  }

  @Override
  public Optional<String> readLink(String path) {
    return tree.readLink(path);
  }

  @Override
  public boolean exists(String path) {
    return tree.exists(path);
  }

  @Override
  public void write(String path, String value) {
    SysfsStore store = new SysfsStore(root.resolve(path), value);
    String real = checkedRealPath(store);
    Matcher driverFile = DRIVER_FILE.matcher(real);
    Matcher deviceFile = DEVICE_FILE.matcher(real);
    Matcher poolFile = POOL_FILE.matcher(real);
    if (poolFile.matches()) {
      int node = poolFile.group("node") == null ? -1 : Integer.parseInt(poolFile.group("node"));
      pools.resize(store, Long.parseLong(poolFile.group("kb")), node);
    } else if (real.equals("bus/pci/drivers_probe")) {
      core.probe(store);
    } else if (real.equals("bus/pci/rescan")) {
      core.rescan(store);
    } else if (driverFile.matches()) {
      String driver = driverFile.group("driver");
      switch (driverFile.group("file")) {
        case "bind" -> core.bind(driver, store);
        case "unbind" -> core.unbind(driver, store);
        case "new_id" -> core.newId(driver, store);
        default -> core.removeId(driver, store);
      }
    } else if (deviceFile.matches()) {
      PciAddress address = PciAddress.parse(deviceFile.group("address"));
      switch (deviceFile.group("file")) {
        case "driver_override" -> core.override(address, store);
        case "remove" -> core.remove(address, store);
        case "rescan" -> core.rescan(store);
        case "reset" -> core.reset(address, store);
        case "enable" -> core.enable(address, store);
        case "config" ->
            core.writeConfig(address, 0, value.getBytes(StandardCharsets.ISO_8859_1), store);
        default -> throw store.refused(Errno.EACCES);
      }
    } else {
      // The kernel refuses to open attributes without a store method for writing, even for root.
      throw store.refused(Errno.EACCES);
    }
  }

  /**
   * Writes {@code bytes} at {@code offset} of a binary attribute: {@code config} reaches the
   * hardware's configuration space, clipped to its size as the kernel clips it.
   *
   * @return the bytes written: fewer than given at the end of the space
   * @throws SysfsException EFBIG at or beyond the end; EACCES for any other attribute
   */
  @Override
  public int writeBytes(String path, long offset, byte[] bytes) {
    SysfsStore store = new SysfsStore(root.resolve(path), "<" + bytes.length + " bytes>");
    Matcher device = DEVICE_FILE.matcher(checkedRealPath(store));
    if (!device.matches() || !device.group("file").equals("config")) {
      throw store.refused(Errno.EACCES);
    }
    if (offset < 0) {
      throw store.refused(Errno.EINVAL);
    }
    return core.writeConfig(PciAddress.parse(device.group("address")), offset, bytes, store);
  }

  private String checkedRealPath(SysfsStore store) {
    if (!Files.exists(store.file())) {
      throw store.refused(Errno.ENOENT);
    }
    if (Files.isDirectory(store.file())) {
      throw store.refused(Errno.EISDIR);
    }
    return files.realRelative(store.file());
  }

  /**
   * Copies the tree as it is now into {@code target} on another file system (usually the disk):
   * directories, attribute contents and relative links, so tools that take a {@code --sysfs-root}
   * can read the simulated machine. Later writes to this sysfs are not reflected there.
   *
   * @throws UncheckedIOException if the copy fails
   */
  public void copyTo(Path target) {
    try (Stream<Path> tree = Files.walk(root)) {
      for (Path source : (Iterable<Path>) tree::iterator) {
        Path destination = target.resolve(root.relativize(source).toString());
        if (Files.isSymbolicLink(source)) {
          Files.createSymbolicLink(destination, Path.of(Files.readSymbolicLink(source).toString()));
        } else if (Files.isDirectory(source)) {
          Files.createDirectories(destination);
        } else {
          Files.write(destination, readBytes(root.relativize(source).toString()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the simulated sysfs to " + target, e);
    }
  }

  @Override
  public String toString() {
    return "SimSysfs" + drivers().stream().map(SimDriver::name).toList();
  }

  /**
   * Builds a {@link SimSysfs}: drivers first, then functions (a function's boot driver must be one
   * of them).
   */
  public static final class Builder {
    private final Map<String, SimDriver> drivers = new LinkedHashMap<>();
    private final Map<String, SimDriver> modules = new LinkedHashMap<>();
    // Each function's layout, made at build time from the address below which its BARs go.
    private final Map<PciAddress, Function<long[], FunctionLayout>> functions =
        new LinkedHashMap<>();
    private final Map<Long, long[]> hugepageCapacity = new TreeMap<>();
    private final Map<Long, long[]> hugepagesAtBoot = new TreeMap<>();

    private Builder() {}

    /** Loads a driver; the kernel probes drivers in the order they were loaded. */
    public Builder driver(SimDriver driver) {
      if (drivers.putIfAbsent(driver.name(), driver) != null) {
        throw new IllegalArgumentException("driver " + driver.name() + " is already loaded");
      }
      return this;
    }

    /**
     * Makes a driver's module available but not loaded: the driver appears when something loads it
     * ({@link SimSysfs#loadModule}, as {@code modprobe} on a real machine).
     */
    public Builder module(SimDriver driver) {
      if (drivers.containsKey(driver.name())
          || modules.putIfAbsent(driver.name(), driver) != null) {
        throw new IllegalArgumentException("driver " + driver.name() + " is already listed");
      }
      return this;
    }

    /** Adds a function. */
    public Builder function(SimFunction function) {
      return add(
          function.address(), function.driver(), top -> GeneratedLayout.place(function, top));
    }

    /** Adds a function laid out as a recording has it. */
    Builder recorded(RecordedLayout layout) {
      return add(layout.address(), layout.bootDriver(), top -> layout);
    }

    private Builder add(
        PciAddress address, Optional<String> driver, Function<long[], FunctionLayout> function) {
      driver
          .filter(d -> !drivers.containsKey(d))
          .ifPresent(d -> {
            throw new IllegalArgumentException(
                address + " starts on driver " + d + ", which is not loaded");
          });
      if (functions.putIfAbsent(address, function) != null) {
        throw new IllegalArgumentException("two functions at " + address);
      }
      return this;
    }

    /**
     * Gives the machine a hugepage pool of {@code size}, empty, that can grow to {@code
     * capacityPerNode[n]} pages on node {@code n}: the memory a kernel could still find for it.
     * Every pool must list the same number of nodes.
     */
    public Builder hugepages(PageSize size, long... capacityPerNode) {
      if (capacityPerNode.length == 0) {
        throw new IllegalArgumentException("a hugepage pool needs at least one node");
      }
      if (Arrays.stream(capacityPerNode).anyMatch(pages -> pages < 0)) {
        throw new IllegalArgumentException(
            "a node cannot hold a negative number of pages: " + Arrays.toString(capacityPerNode));
      }
      if (!hugepageCapacity.isEmpty()
          && hugepageCapacity.values().iterator().next().length != capacityPerNode.length) {
        throw new IllegalArgumentException("every hugepage pool must list the same nodes");
      }
      hugepageCapacity.put(size.kilobytes(), capacityPerNode.clone());
      return this;
    }

    /** A pool holding {@code pages[n]} pages on node {@code n} at boot, as a recording shows. */
    Builder hugepages(long kilobytes, long[] capacityPerNode, long[] pages) {
      hugepages(PageSize.of(kilobytes * 1024), capacityPerNode);
      hugepagesAtBoot.put(kilobytes, pages.clone());
      return this;
    }

    /** Writes the tree into a fresh in-memory file system, at {@code /sys}. */
    public SimSysfs build() {
      return build(newFileSystem().getPath("/sys"));
    }

    /**
     * Writes the tree at {@code root}, an empty or absent directory of an in-memory file system
     * (from {@link #newFileSystem()}), so that a simulated machine keeps its {@code /sys}, {@code
     * /dev} and {@code /proc} in one.
     */
    public SimSysfs build(Path root) {
      SysfsTree files = new SysfsTree(root);
      SysfsFaults faults = new SysfsFaults();
      List<FunctionLayout> layouts = new ArrayList<>();
      long[] barTop = {0xfe00_0000L};
      for (Function<long[], FunctionLayout> layout : functions.values()) {
        layouts.add(layout.apply(barTop));
      }
      DriverCore core =
          new DriverCore(
              files,
              Sysfs.of(root),
              faults,
              Collections.unmodifiableMap(new LinkedHashMap<>(drivers)));
      core.boot(layouts);
      HugepagePools pools = new HugepagePools(files, faults, hugepageCapacity, hugepagesAtBoot);
      pools.layOut();
      return new SimSysfs(root, core, pools, faults, List.copyOf(modules.values()));
    }
  }
}
