package dev.upcie.sim.sysfs;

import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciResource;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.sysfs.UmockdevRecording.RecordedDevice;
import dev.upcie.support.UpcieException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A machine's PCI functions as {@code umockdev-record} saw them, ready to become a {@link SimSysfs}
 * whose writes behave as the kernel's.
 *
 * <p>The functions, their attributes, {@code config} bytes, drivers and IOMMU groups are the
 * recording's. What a recording cannot hold is derived or defaulted, and {@link #defaults()} says
 * what:
 *
 * <ul>
 *   <li>each driver a function was bound to is loaded, claiming the ids bound to it in the
 *       recording ({@code vfio-pci} and {@code uio_pci_generic} claim nothing, as on Linux); {@code
 *       vfio-pci} and {@code uio_pci_generic} are loaded even if nothing used them;
 *   <li>{@code resourceN} files from {@code resource}, and the write-only {@code remove} and {@code
 *       rescan} stores ({@code reset} appears where a device model that can reset is put behind the
 *       function);
 *   <li>hugepage pools of 2M and 1G: on the NUMA nodes the recording has ({@code umockdev-record
 *       /sys/bus/pci/devices/* /sys/devices/system/node/node*}), able to grow by each node's
 *       recorded free memory; without recorded nodes, on one node (as {@code numa_node} -1 means),
 *       empty, able to grow to 1024 and 1 pages.
 * </ul>
 *
 * <pre>{@code
 * SysfsRecording recording = SysfsRecording.load(Path.of("qemu-q35-iommu-nvme-edu.umockdev"));
 * recording.defaults().forEach(System.err::println);
 * SimSysfs sysfs = recording.build();
 * new PciBus(sysfs).functions().forEach(f -> System.out.println(f.summary()));
 * }</pre>
 */
public final class SysfsRecording {
  private static final Pattern NODE = Pattern.compile("/devices/system/node/node(\\d+)");

  /** Drivers that bind only what they are handed, whatever the recording shows them bound to. */
  private static final Set<String> OVERRIDE_ONLY = Set.of("vfio-pci", "uio_pci_generic");

  private final Path file;
  private final List<RecordedLayout> functions;
  private final Map<String, List<PciSelector>> drivers;
  private final Map<Long, long[][]> pools;
  private final List<String> defaults;

  private SysfsRecording(
      Path file,
      List<RecordedLayout> functions,
      Map<String, List<PciSelector>> drivers,
      Map<Long, long[][]> pools,
      List<String> defaults) {
    this.file = file;
    this.functions = List.copyOf(functions);
    this.drivers = drivers;
    this.pools = pools;
    this.defaults = List.copyOf(defaults);
  }

  /**
   * Reads a recording made with {@code umockdev-record /sys/bus/pci/devices/*} (and, for the NUMA
   * nodes, {@code /sys/devices/system/node/node*}); other devices are left out and said so in
   * {@link #defaults()}.
   *
   * @throws UpcieException if the file cannot be read, is not a recording, or has no PCI function
   */
  public static SysfsRecording load(Path file) {
    List<RecordedLayout> functions = new ArrayList<>();
    Map<String, List<PciSelector>> drivers = new LinkedHashMap<>();
    List<String> defaults = new ArrayList<>();
    Map<Integer, RecordedDevice> nodes = new TreeMap<>();
    for (RecordedDevice device : UmockdevRecording.read(file)) {
      String name = device.path().substring(device.path().lastIndexOf('/') + 1);
      Matcher node = NODE.matcher(device.path());
      if ("node".equals(device.subsystem()) && node.matches()) {
        nodes.put(Integer.parseInt(node.group(1)), device);
        continue;
      }
      if (!"pci".equals(device.subsystem()) || !PciAddress.isAddress(name)) {
        defaults.add("left out " + device.path() + ": not a PCI function");
        continue;
      }
      RecordedLayout layout = new RecordedLayout(PciAddress.parse(name), device);
      check(file, device, layout);
      functions.add(layout);
      layout
          .bootDriver()
          .ifPresent(driver -> {
            List<PciSelector> table = drivers.computeIfAbsent(driver, d -> new ArrayList<>());
            if (!OVERRIDE_ONLY.contains(driver)) {
              table.add(PciSelector.any().withId(idOf(device)));
            }
          });
    }
    if (functions.isEmpty()) {
      throw new UpcieException(
          file
              + " records no PCI function; record them with umockdev-record /sys/bus/pci/devices/*");
    }
    drivers.forEach((driver, table) -> {
      if (!table.isEmpty()) {
        defaults.add("driver " + driver + " claims the ids bound to it in the recording: " + table);
      }
    });
    // A recorded machine's kernel has the nvme module even when no controller was on it.
    if (!drivers.containsKey("nvme")) {
      defaults.add("module nvme available (claims class 0x010802), not loaded");
    }
    for (String driver : List.of("vfio-pci", "uio_pci_generic")) {
      if (drivers.putIfAbsent(driver, List.of()) == null) {
        defaults.add("driver " + driver + " loaded, though no function was bound to it");
      }
    }
    defaults.add("resourceN files derived from resource (empty: the sizes are in resource)");
    defaults.add(
        "remove and rescan stores added (write-only, so never recorded); reset only where a"
            + " device model can reset");
    Map<Long, long[][]> pools = pools(nodes, defaults);
    return new SysfsRecording(file, functions, drivers, pools, defaults);
  }

  /**
   * The hugepage pools, per size: {capacity per node, pages per node}. With no node recorded, one
   * node, empty, with room for 1024 2M pages and one 1G page. With recorded nodes, those nodes,
   * holding what was recorded of {@code hugepages/} (umockdev-record does not descend there, so
   * usually nothing) and able to grow by the node's recorded {@code MemFree}.
   */
  private static Map<Long, long[][]> pools(
      Map<Integer, RecordedDevice> nodes, List<String> defaults) {
    Map<Long, long[][]> pools = new TreeMap<>();
    if (nodes.isEmpty()) {
      pools.put(2048L, new long[][] {{1024}, {0}});
      pools.put(1048576L, new long[][] {{1}, {0}});
      defaults.add(
          "hugepage pools 2M and 1G on one NUMA node (no node recorded), empty, able to grow to"
              + " 1024 and 1 pages");
      return pools;
    }
    int count = nodes.keySet().stream().mapToInt(Integer::intValue).max().orElseThrow() + 1;
    for (long kb : new long[] {2048, 1048576}) {
      long[] room = new long[count];
      long[] pages = new long[count];
      nodes.forEach((n, node) -> {
        pages[n] = recordedPages(node, kb);
        room[n] = pages[n] + memFreeKb(node, n) / kb;
      });
      pools.put(kb, new long[][] {room, pages});
    }
    defaults.add(
        "hugepage pools 2M and 1G on the recorded nodes "
            + nodes.keySet()
            + ", holding the pages recorded under hugepages/ (none if not recorded), able to grow"
            + " by each node's recorded MemFree"
            + (count > nodes.size()
                ? "; the nodes not recorded below " + count + " are empty"
                : ""));
    return pools;
  }

  private static long recordedPages(RecordedDevice node, long kb) {
    String attribute = "hugepages/hugepages-" + kb + "kB/nr_hugepages";
    try {
      return node.attribute(attribute)
          .map(b -> Long.parseLong(new String(b, StandardCharsets.US_ASCII).strip()))
          .orElse(0L);
    } catch (NumberFormatException e) {
      throw new UpcieException(node.path() + " " + attribute + " is not a page count");
    }
  }

  /** {@code Node N MemFree: X kB} of the node's {@code meminfo}; 0 if it was not recorded. */
  private static long memFreeKb(RecordedDevice node, int n) {
    String meminfo =
        node.attribute("meminfo").map(b -> new String(b, StandardCharsets.US_ASCII)).orElse("");
    Matcher free = Pattern.compile("Node " + n + " MemFree:\\s+(\\d+) kB").matcher(meminfo);
    return free.find() ? Long.parseLong(free.group(1)) : 0;
  }

  /**
   * Refuses a function the simulator could not serve, naming the file, the device and the
   * attribute: what a kernel always shows must be there, and be what the kernel writes.
   */
  private static void check(Path file, RecordedDevice device, RecordedLayout layout) {
    for (String required :
        List.of(
            "vendor",
            "device",
            "subsystem_vendor",
            "subsystem_device",
            "class",
            "revision",
            "config",
            "resource")) {
      if (device.attribute(required).isEmpty()) {
        throw invalid(
            file,
            device,
            "has no "
                + required
                + " attribute; record the function directories themselves:"
                + " umockdev-record /sys/bus/pci/devices/*");
      }
    }
    for (String id : List.of("vendor", "device")) {
      try {
        hex(device, id);
      } catch (NumberFormatException e) {
        throw invalid(file, device, id + " is not a hexadecimal id: " + text(device, id).strip());
      }
    }
    int config = device.attribute("config").orElseThrow().length;
    if (config < 256) {
      throw invalid(
          file,
          device,
          "records only "
              + config
              + " bytes of config space, as the kernel shows users other than root; record as"
              + " root");
    }
    try {
      PciResource.parse(text(device, "resource"));
      layout.iommuGroup();
    } catch (PciException | NumberFormatException e) {
      throw invalid(
          file,
          device,
          "has a resource table or IOMMU group the kernel would not show: " + e.getMessage());
    }
  }

  private static UpcieException invalid(Path file, RecordedDevice device, String what) {
    return new UpcieException(file + ": " + device.path() + " " + what);
  }

  private static String text(RecordedDevice device, String attribute) {
    return new String(device.attribute(attribute).orElseThrow(), StandardCharsets.US_ASCII);
  }

  private static dev.upcie.pci.PciId idOf(RecordedDevice device) {
    return new dev.upcie.pci.PciId(hex(device, "vendor"), hex(device, "device"));
  }

  private static int hex(RecordedDevice device, String attribute) {
    return Integer.decode(text(device, attribute).strip());
  }

  /** The file it was read from. */
  public Path file() {
    return file;
  }

  /** The recorded PCI functions, in the recording's order. */
  public List<PciAddress> functions() {
    return functions.stream().map(RecordedLayout::address).toList();
  }

  /**
   * The vendor and device id recorded for {@code function}.
   *
   * @throws IllegalArgumentException if the recording has no such function
   */
  public dev.upcie.pci.PciId id(PciAddress function) {
    return functions.stream()
        .filter(f -> f.address().equals(function))
        .findFirst()
        .map(f -> idOf(f.device()))
        .orElseThrow(() -> new IllegalArgumentException(file + " records no function " + function));
  }

  /** What the recording did not hold and the simulator derived or defaulted, one line each. */
  public List<String> defaults() {
    return defaults;
  }

  /**
   * A builder with the recording's drivers, functions and default hugepage pools: add drivers or
   * functions before building.
   */
  public SimSysfs.Builder builder() {
    SimSysfs.Builder builder = SimSysfs.builder();
    drivers.forEach((name, table) -> builder.driver(new SimDriver(name, table)));
    if (!drivers.containsKey("nvme")) {
      builder.module(SimDriver.claiming("nvme", PciSelector.any().withClass(PciClassCode.NVME)));
    }
    functions.forEach(builder::recorded);
    pools.forEach((kb, pool) -> builder.hugepages(kb, pool[0], pool[1]));
    return builder;
  }

  /** The recorded machine's sysfs. */
  public SimSysfs build() {
    return builder().build();
  }

  @Override
  public String toString() {
    return "the recording " + file + " (" + functions.size() + " PCI functions)";
  }
}
