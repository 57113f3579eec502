package dev.upcie.sim.sysfs;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import dev.upcie.errno.Errno;
import dev.upcie.hugepages.PageSize;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciFunction;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * refused:
 *
 * <table>
 *   <caption>simulated writes</caption>
 *   <tr><th>attribute</th><th>effect</th><th>refused with</th></tr>
 *   <tr><td>{@code devices/.../driver_override}</td><td>sets it; an empty line clears it</td>
 *       <td></td></tr>
 *   <tr><td>{@code bus/pci/drivers_probe}</td><td>binds an unbound function to the first driver
 *       that matches (the override, else an id table)</td><td>ENODEV: no such function</td></tr>
 *   <tr><td>{@code bus/pci/drivers/X/bind}</td><td>binds to X</td><td>ENODEV: no such function,
 *       X does not match it, or X's probe rejects it; EBUSY: already bound</td></tr>
 *   <tr><td>{@code bus/pci/drivers/X/unbind}, {@code devices/.../driver/unbind}</td>
 *       <td>unbinds</td><td>ENODEV: not bound to X</td></tr>
 *   <tr><td>read-only attributes ({@code vendor}, ...)</td><td></td><td>EACCES, as for root</td>
 *       </tr>
 * </table>
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
  private static final Pattern DEVICE_FILE =
      Pattern.compile("devices/pci[0-9a-f]{4,8}:[0-9a-f]{2}/(?<address>[^/]+)/(?<file>[^/]+)");
  // Writable in the kernel but not modelled yet: writes are refused loudly, never ignored.
  private static final Set<String> UNMODELLED =
      Set.of("new_id", "remove_id", "remove", "rescan", "reset", "enable", "bus/pci/rescan");

  private final Path root;
  private final Sysfs tree;
  private final Tree files;
  private final Map<String, SimDriver> drivers;
  private final Map<Long, long[]> hugepageCapacity;
  private final Map<Long, long[]> hugepages;
  private final Map<Path, Supplier<byte[]>> served = new ConcurrentHashMap<>();
  private final List<Runnable> bindingListeners = new CopyOnWriteArrayList<>();

  private SimSysfs(Path root, Map<String, SimDriver> drivers, Map<Long, long[]> capacity) {
    this.root = root;
    this.tree = Sysfs.of(root);
    this.files = new Tree(root);
    this.drivers = Map.copyOf(drivers);
    this.hugepageCapacity = Map.copyOf(capacity);
    this.hugepages = new TreeMap<>();
    capacity.forEach((kb, perNode) -> hugepages.put(kb, new long[perNode.length]));
  }

  /** Starts an empty machine: no drivers, no functions. */
  public static Builder builder() {
    return new Builder();
  }

  /** The drivers this kernel has loaded. */
  public List<SimDriver> drivers() {
    return List.copyOf(drivers.values());
  }

  @Override
  public Path root() {
    return root;
  }

  @Override
  public String read(String path) {
    Supplier<byte[]> live = served(path);
    return live != null
        ? new String(live.get(), java.nio.charset.StandardCharsets.ISO_8859_1)
        : tree.read(path);
  }

  @Override
  public byte[] readBytes(String path) {
    Supplier<byte[]> live = served(path);
    return live != null ? live.get() : tree.readBytes(path);
  }

  /**
   * Serves the {@code config} attribute of {@code address} from {@code bytes} from now on: the
   * device model's configuration space, as the kernel reads the device's.
   */
  public void serveConfig(PciAddress address, Supplier<byte[]> bytes) {
    served.put(realPath(root.resolve(PciBus.dir(address) + "/config")), bytes);
  }

  /** Runs {@code listener} after every change of a function's driver (bind, unbind, probe). */
  public void onBindingChange(Runnable listener) {
    bindingListeners.add(listener);
  }

  private Supplier<byte[]> served(String path) {
    if (served.isEmpty() || !path.endsWith("config")) {
      return null;
    }
    Path file = root.resolve(path);
    return Files.exists(file) ? served.get(realPath(file)) : null;
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
  public synchronized void write(String path, String value) {
    Path file = root.resolve(path);
    String operation = "write \"" + value.strip() + "\" to";
    if (!Files.exists(file)) {
      throw new SysfsException(operation, file, Errno.ENOENT);
    }
    if (Files.isDirectory(file)) {
      throw new SysfsException(operation, file, Errno.EISDIR);
    }
    String real = relativeRealPath(file);
    String argument = value.strip();
    Matcher driverFile = DRIVER_FILE.matcher(real);
    Matcher deviceFile = DEVICE_FILE.matcher(real);
    Matcher poolFile = POOL_FILE.matcher(real);
    if (poolFile.matches()) {
      resizePool(operation, file, poolFile, argument);
    } else if (real.equals("bus/pci/drivers_probe")) {
      probe(operation, file, argument);
    } else if (driverFile.matches() && driverFile.group("file").equals("bind")) {
      bind(operation, file, driverFile.group("driver"), argument);
    } else if (driverFile.matches() && driverFile.group("file").equals("unbind")) {
      unbind(operation, file, driverFile.group("driver"), argument);
    } else if (deviceFile.matches() && deviceFile.group("file").equals("driver_override")) {
      files.file(real, (argument.isEmpty() ? "(null)" : argument) + "\n");
    } else if (UNMODELLED.contains(real)
        || driverFile.matches()
        || (deviceFile.matches() && UNMODELLED.contains(deviceFile.group("file")))) {
      throw new UpcieException(
          operation + " " + file + ": the simulator does not model writes to this attribute yet");
    } else {
      // The kernel refuses to open attributes without a store method for writing, even for root.
      throw new SysfsException(operation, file, Errno.EACCES);
    }
  }

  /**
   * Copies the tree as it is now into {@code target} on another file system (usually the disk):
   * directories, attribute contents and relative links, so tools that take a {@code --sysfs-root}
   * can read the simulated machine. Later writes to this sysfs are not reflected there.
   *
   * @throws UncheckedIOException if the copy fails
   */
  public synchronized void copyTo(Path target) {
    try (Stream<Path> tree = Files.walk(root)) {
      for (Path source : (Iterable<Path>) tree::iterator) {
        Path destination = target.resolve(root.relativize(source).toString());
        if (Files.isSymbolicLink(source)) {
          Files.createSymbolicLink(destination, Path.of(Files.readSymbolicLink(source).toString()));
        } else if (Files.isDirectory(source)) {
          Files.createDirectories(destination);
        } else {
          Files.write(destination, Files.readAllBytes(source));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the simulated sysfs to " + target, e);
    }
  }

  @Override
  public String toString() {
    return "SimSysfs[" + drivers.keySet() + "]";
  }

  /**
   * The kernel's {@code nr_hugepages} store: grows a pool page by page, spreading a machine-wide
   * request over the nodes in turn, until it has the count asked for or no node has room; shrinks
   * it likewise. The file then shows what the pool got, which may be less than asked.
   */
  private void resizePool(String operation, Path file, Matcher pool, String argument) {
    long wanted;
    try {
      wanted = Long.parseLong(argument);
    } catch (NumberFormatException e) {
      throw new SysfsException(operation, file, Errno.EINVAL);
    }
    if (wanted < 0) {
      throw new SysfsException(operation, file, Errno.EINVAL);
    }
    long kb = Long.parseLong(pool.group("kb"));
    long[] perNode = hugepages.get(kb);
    long[] capacity = hugepageCapacity.get(kb);
    if (pool.group("node") != null) {
      int node = Integer.parseInt(pool.group("node"));
      perNode[node] = Math.min(wanted, capacity[node]);
    } else {
      long total = Arrays.stream(perNode).sum();
      // The kernel stops where memory runs out: no node can take more than its capacity.
      long reachable = Math.min(wanted, Arrays.stream(capacity).sum());
      for (int node = 0; total < reachable; node = (node + 1) % perNode.length) {
        if (perNode[node] < capacity[node]) {
          perNode[node]++;
          total++;
        }
      }
      for (int node = perNode.length - 1;
          total > wanted;
          node = (node + perNode.length - 1) % perNode.length) {
        if (perNode[node] > 0) {
          perNode[node]--;
          total--;
        }
      }
    }
    writePools(files, kb, perNode);
  }

  private static void writePools(Tree files, long kb, long[] perNode) {
    String name = "hugepages-" + kb + "kB";
    long total = Arrays.stream(perNode).sum();
    files.file("kernel/mm/hugepages/" + name + "/nr_hugepages", total + "\n");
    files.file("kernel/mm/hugepages/" + name + "/free_hugepages", total + "\n");
    for (int node = 0; node < perNode.length; node++) {
      String dir = "devices/system/node/node" + node + "/hugepages/" + name;
      files.file(dir + "/nr_hugepages", perNode[node] + "\n");
      files.file(dir + "/free_hugepages", perNode[node] + "\n");
    }
  }

  private void probe(String operation, Path file, String argument) {
    PciFunction function = function(operation, file, argument);
    if (function.driver().isPresent()) {
      return;
    }
    for (SimDriver driver : drivers.values()) {
      if (driver.matches(function) && driver.accepts(function)) {
        attach(function.address(), driver.name());
        return;
      }
    }
    // No driver took it: the kernel reports success and leaves the function unbound.
  }

  private void bind(String operation, Path file, String driver, String argument) {
    PciFunction function = function(operation, file, argument);
    SimDriver target = drivers.get(driver);
    if (!target.matches(function)) {
      throw new SysfsException(operation, file, Errno.ENODEV);
    }
    if (function.driver().isPresent()) {
      throw new SysfsException(operation, file, Errno.EBUSY);
    }
    if (!target.accepts(function)) {
      // The probe's own error comes back from bind; drivers reject unknown hardware with ENODEV.
      throw new SysfsException(operation, file, Errno.ENODEV);
    }
    attach(function.address(), driver);
  }

  private void unbind(String operation, Path file, String driver, String argument) {
    PciFunction function = function(operation, file, argument);
    if (!function.isBoundTo(driver)) {
      throw new SysfsException(operation, file, Errno.ENODEV);
    }
    String address = function.address().toString();
    files.delete(deviceDir(function.address()) + "/driver");
    files.delete("bus/pci/drivers/" + driver + "/" + address);
    bindingListeners.forEach(Runnable::run);
  }

  private PciFunction function(String operation, Path file, String argument) {
    if (!PciAddress.isAddress(argument)) {
      throw new SysfsException(operation, file, Errno.ENODEV);
    }
    PciAddress address = PciAddress.parse(argument);
    // The kernel looks functions up by their exact name.
    if (!address.toString().equals(argument)) {
      throw new SysfsException(operation, file, Errno.ENODEV);
    }
    return new PciBus(tree)
        .find(address)
        .orElseThrow(() -> new SysfsException(operation, file, Errno.ENODEV));
  }

  private void attach(PciAddress address, String driver) {
    String dir = deviceDir(address);
    files.link(dir + "/driver", "../../../bus/pci/drivers/" + driver);
    files.link("bus/pci/drivers/" + driver + "/" + address, "../../../../" + dir);
    bindingListeners.forEach(Runnable::run);
  }

  private String relativeRealPath(Path file) {
    try {
      return root.toRealPath().relativize(file.toRealPath()).toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path realPath(Path file) {
    try {
      return file.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String deviceDir(PciAddress address) {
    return "devices/pci"
        + String.format("%04x:%02x", address.domain(), address.bus())
        + "/"
        + address;
  }

  /**
   * Builds a {@link SimSysfs}: drivers first, then functions (a function's boot driver must be one
   * of them).
   */
  public static final class Builder {
    private final Map<String, SimDriver> drivers = new LinkedHashMap<>();
    private final Map<PciAddress, SimFunction> functions = new LinkedHashMap<>();
    private final Map<Long, long[]> hugepageCapacity = new TreeMap<>();

    private Builder() {}

    /** Loads a driver; the kernel probes drivers in the order they were loaded. */
    public Builder driver(SimDriver driver) {
      if (drivers.putIfAbsent(driver.name(), driver) != null) {
        throw new IllegalArgumentException("driver " + driver.name() + " is already loaded");
      }
      return this;
    }

    /** Adds a function. */
    public Builder function(SimFunction function) {
      function
          .driver()
          .filter(d -> !drivers.containsKey(d))
          .ifPresent(d -> {
            throw new IllegalArgumentException(
                function.address() + " starts on driver " + d + ", which is not loaded");
          });
      if (functions.putIfAbsent(function.address(), function) != null) {
        throw new IllegalArgumentException("two functions at " + function.address());
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
      if (!hugepageCapacity.isEmpty()
          && hugepageCapacity.values().iterator().next().length != capacityPerNode.length) {
        throw new IllegalArgumentException("every hugepage pool must list the same nodes");
      }
      hugepageCapacity.put(size.kilobytes(), capacityPerNode.clone());
      return this;
    }

    /** Writes the tree into a fresh in-memory file system. */
    public SimSysfs build() {
      FileSystem fs =
          Jimfs.newFileSystem(
              Configuration.unix().toBuilder().setAttributeViews("basic", "posix").build());
      Path root = fs.getPath("/sys");
      Tree writer = new Tree(root);
      writer.dir("bus/pci/devices");
      writer.dir("bus/pci/drivers");
      writer.dir("kernel/iommu_groups");
      writer.file("bus/pci/drivers_probe", "");
      writer.file("bus/pci/rescan", "");
      for (SimDriver driver : drivers.values()) {
        String dir = "bus/pci/drivers/" + driver.name();
        writer.dir(dir);
        writer.file(dir + "/bind", "");
        writer.file(dir + "/unbind", "");
        writer.file(dir + "/new_id", "");
        writer.file(dir + "/remove_id", "");
      }
      long nextBarAddress = 0xfe00_0000L;
      for (SimFunction f : functions.values()) {
        nextBarAddress = Layout.function(writer, f, nextBarAddress);
      }
      hugepageCapacity.forEach((kb, capacity) -> {
        String name = "hugepages-" + kb + "kB";
        for (String attribute :
            List.of("resv_hugepages", "surplus_hugepages", "nr_overcommit_hugepages")) {
          writer.file("kernel/mm/hugepages/" + name + "/" + attribute, "0\n");
        }
        for (int node = 0; node < capacity.length; node++) {
          writer.file(
              "devices/system/node/node" + node + "/hugepages/" + name + "/surplus_hugepages",
              "0\n");
        }
        writePools(writer, kb, new long[capacity.length]);
      });
      return new SimSysfs(root, drivers, hugepageCapacity);
    }
  }

  /** Lays out one function's directory the way the kernel does. */
  private static final class Layout {
    private Layout() {}

    static long function(Tree files, SimFunction f, long nextBarAddress) {
      String dir = deviceDir(f.address());
      files.dir(dir);
      files.file(dir + "/vendor", hex4(f.id().vendor()));
      files.file(dir + "/device", hex4(f.id().device()));
      files.file(dir + "/subsystem_vendor", hex4(f.subsystem().vendor()));
      files.file(dir + "/subsystem_device", hex4(f.subsystem().device()));
      files.file(dir + "/class", f.classCode() + "\n");
      files.file(dir + "/revision", String.format("0x%02x\n", f.revision()));
      files.file(dir + "/numa_node", f.numaNode().orElse(-1) + "\n");
      files.file(dir + "/driver_override", "(null)\n");
      files.file(dir + "/enable", "0\n");
      files.file(dir + "/remove", "");
      files.file(dir + "/reset", "");
      long[] barAddresses = new long[6];
      StringBuilder resource = new StringBuilder();
      for (int i = 0; i < 13; i++) {
        SimBar bar = i < 6 ? f.bars().get(i) : SimBar.NONE;
        if (!bar.implemented()) {
          resource.append(String.format("0x%016x 0x%016x 0x%016x\n", 0L, 0L, 0L));
          continue;
        }
        long start = (nextBarAddress - bar.size()) & -bar.size();
        nextBarAddress = start;
        barAddresses[i] = start;
        // IORESOURCE_MEM | IORESOURCE_SIZEALIGN, plus IORESOURCE_MEM_64 for a 64-bit BAR: the
        // flags QEMU's NVMe (0x140204) and edu (0x40200) BARs show in the recorded guest.
        long flags = bar.wide() ? 0x140204L : 0x40200L;
        resource.append(
            String.format("0x%016x 0x%016x 0x%016x\n", start, start + bar.size() - 1, flags));
      }
      files.file(dir + "/resource", resource.toString());
      files.bytes(dir + "/config", config(f, barAddresses));
      files.link("bus/pci/devices/" + f.address(), "../../../" + dir);
      f.driver()
          .ifPresent(d -> {
            files.link(dir + "/driver", "../../../bus/pci/drivers/" + d);
            files.link("bus/pci/drivers/" + d + "/" + f.address(), "../../../../" + dir);
          });
      f.iommuGroup()
          .ifPresent(g -> {
            files.dir("kernel/iommu_groups/" + g + "/devices");
            files.link(dir + "/iommu_group", "../../../kernel/iommu_groups/" + g);
            files.link(
                "kernel/iommu_groups/" + g + "/devices/" + f.address(), "../../../../" + dir);
          });
      return nextBarAddress;
    }

    /**
     * A type 0 configuration header with the function's capability list: 256 bytes, or 4096 for a
     * PCI Express function (whose extended list is empty).
     */
    private static byte[] config(SimFunction f, long[] barAddresses) {
      ByteBuffer config =
          ByteBuffer.allocate(f.express() ? 4096 : 256).order(ByteOrder.LITTLE_ENDIAN);
      config.putShort(0x00, (short) f.id().vendor());
      config.putShort(0x02, (short) f.id().device());
      config.put(0x08, (byte) f.revision());
      config.put(0x09, (byte) f.classCode().progIf());
      config.put(0x0a, (byte) f.classCode().subClass());
      config.put(0x0b, (byte) f.classCode().baseClass());
      for (int i = 0; i < 6; i++) {
        if (barAddresses[i] == 0) {
          continue;
        }
        if (f.bars().get(i).wide()) {
          // 64-bit memory BAR: type bits 0b10; the upper half is the next slot.
          config.putLong(0x10 + 4 * i, barAddresses[i] | 0x4);
        } else {
          config.putInt(0x10 + 4 * i, (int) barAddresses[i]);
        }
      }
      config.putShort(0x2c, (short) f.subsystem().vendor());
      config.putShort(0x2e, (short) f.subsystem().device());
      config.put(0x3d, (byte) f.interruptPin());
      if (f.bars().stream().anyMatch(SimBar::implemented)) {
        // The firmware turned memory decoding on at boot, as SeaBIOS does for QEMU's functions.
        config.putShort(0x04, (short) 0x0002);
      }
      List<SimCapability> capabilities = f.capabilities();
      if (!capabilities.isEmpty()) {
        config.putShort(0x06, (short) 0x0010);
        config.put(0x34, (byte) capabilities.get(0).offset());
      }
      for (int i = 0; i < capabilities.size(); i++) {
        SimCapability c = capabilities.get(i);
        config.put(c.offset(), (byte) c.id());
        config.put(
            c.offset() + 1,
            (byte) (i + 1 < capabilities.size() ? capabilities.get(i + 1).offset() : 0));
        config.put(c.offset() + 2, c.body());
      }
      return config.array();
    }

    private static String hex4(int value) {
      return String.format("0x%04x\n", value);
    }
  }

  /** File operations on the in-memory tree, by path relative to its root. */
  private static final class Tree {
    private final Path root;

    Tree(Path root) {
      this.root = root;
    }

    void dir(String path) {
      try {
        Files.createDirectories(root.resolve(path));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void file(String path, String content) {
      try {
        Files.createDirectories(root.resolve(path).getParent());
        Files.writeString(root.resolve(path), content);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void bytes(String path, byte[] content) {
      try {
        Files.write(root.resolve(path), content);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void link(String path, String target) {
      try {
        Files.createSymbolicLink(root.resolve(path), root.getFileSystem().getPath(target));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    void delete(String path) {
      try {
        Files.delete(root.resolve(path));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }
}
