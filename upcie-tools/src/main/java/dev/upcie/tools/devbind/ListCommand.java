package dev.upcie.tools.devbind;

import dev.upcie.host.Host;
import dev.upcie.pci.FunctionNode;
import dev.upcie.pci.FunctionNodes;
import dev.upcie.pci.FunctionUse;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciFunctionNotFoundException;
import dev.upcie.pci.PciIds;
import dev.upcie.pci.PciScan;
import dev.upcie.pci.PciSelector;
import dev.upcie.tools.DeviceArgument;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.UsageException;
import dev.upcie.tools.output.Json;
import dev.upcie.tools.output.Table;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code upcie devbind list}: every PCI function with ids, class, driver and topology. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = {
      "List PCI functions: address, vendor:device id, class, driver, IOMMU group, NUMA node.",
      "Filters narrow the list; all given must hold. Reads sysfs only, so it needs no root."
    })
public final class ListCommand implements Callable<Integer> {
  /** The JSON schema name and version of {@code --json}. */
  static final String SCHEMA = "upcie.devbind.list/1";

  @Mixin SysfsOption sysfs;

  @Mixin FunctionFilter filter;

  @Option(names = "--json", description = "Print JSON (schema " + SCHEMA + ") instead of a table.")
  boolean json;

  @Option(
      names = "--pci-ids",
      paramLabel = "FILE",
      description =
          "Take vendor and device names from this pci.ids, or none (default: the one lspci"
              + " reads, /usr/share/misc/pci.ids, where installed).")
  String pciIds;

  @Parameters(
      paramLabel = "DEVICE",
      arity = "0..*",
      description =
          "Only these functions: an address (0000:00:04.0 or 00:04.0), a vendor:device id"
              + " (1b36:0010), or an NVMe name (nvme0, /dev/nvme0n1).")
  List<String> devices = List.of();

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    // One host for everything: the sysfs named (or simulated) with its procfs, or this machine.
    Host host = sysfs.host().orElseGet(Host::system);
    List<PciSelector> selectors =
        devices.stream().map(d -> DeviceArgument.parse(d, host.sysfs())).toList();
    filter.validate();
    PciIds names = names();
    PciBus bus = new PciBus(host.sysfs());
    PciScan scan = bus.scan();
    List<PciFunction> all = scan.functions();
    List<PciFunction> named = selectors.isEmpty() ? all : select(all, selectors, scan.isComplete());
    List<PciFunction> shown = named.stream().filter(filter).toList();
    List<Listing> listings = shown.stream().map(f -> Listing.of(host, bus, names, f)).toList();
    spec.commandLine().getOut().print(json ? json(listings, scan.problems()) : table(listings));
    spec.commandLine().getOut().flush();
    // What could not be read is said on stderr either way, so a script reading stdout still sees
    // a well-formed listing, and the exit status says it is partial.
    for (PciScan.Problem problem : scan.problems()) {
      spec.commandLine()
          .getErr()
          .println("upcie: not listed: " + problem + " (" + describe(problem.kind()) + ")");
    }
    spec.commandLine().getErr().flush();
    return scan.isComplete() ? ExitCode.OK.code() : ExitCode.PARTIAL.code();
  }

  /** The names database: the system's, none, or the file named, which must be readable. */
  private PciIds names() {
    if (pciIds == null) {
      return PciIds.system();
    }
    if (pciIds.equals("none")) {
      return PciIds.none();
    }
    Path file = Path.of(pciIds);
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new UsageException(
          "--pci-ids "
              + pciIds
              + ": no such readable file (give a pci.ids file, or none for no names)");
    }
    return PciIds.load(file);
  }

  private static String describe(PciScan.Kind kind) {
    return switch (kind) {
      case MALFORMED -> "its sysfs entry is malformed; the rest are listed";
      case VANISHED -> "unplugged while listing; the rest are listed";
      case UNREADABLE -> "unreadable; the rest are listed";
    };
  }

  private List<PciFunction> select(
      List<PciFunction> all, List<PciSelector> selectors, boolean complete) {
    Set<PciFunction> shown = new LinkedHashSet<>();
    for (PciSelector selector : selectors) {
      List<PciFunction> matches = all.stream().filter(selector::matches).toList();
      // With functions unread, "not found" could be wrong: the partial status says enough.
      if (matches.isEmpty() && complete) {
        throw new PciFunctionNotFoundException(
            "no PCI function with "
                + selector
                + " in "
                + sysfs.sysfs().resolve(PciBus.DEVICES)
                + " (run `upcie devbind list` to see them all)");
      }
      shown.addAll(matches);
    }
    List<PciFunction> sorted = new ArrayList<>(shown);
    sorted.sort((a, b) -> a.address().compareTo(b.address()));
    return sorted;
  }

  /** What the listing shows of one function beyond its sysfs attributes. */
  private record Listing(
      PciFunction function,
      Optional<String> vendorName,
      Optional<String> deviceName,
      Optional<String> subsystemName,
      List<FunctionNode> nodes,
      List<PciAddress> groupMembers,
      Optional<String> inUse) {
    static Listing of(Host host, PciBus bus, PciIds names, PciFunction f) {
      List<PciAddress> members =
          f.iommuGroup().isPresent()
              ? bus.iommuGroupMembers(f.iommuGroup().getAsInt()).stream()
                  .filter(a -> !a.equals(f.address()))
                  .toList()
              : List.of();
      return new Listing(
          f,
          names.vendor(f.id().vendor()),
          names.device(f.id()),
          names.subsystem(f.id(), f.subsystem()),
          FunctionNodes.of(host.sysfs(), f),
          members,
          FunctionUse.of(host, f.address()));
    }

    /** The class, and the names where pci.ids has them, as lspci puts them. */
    String description() {
      String classDescription = function.classCode().describe();
      if (deviceName.isEmpty()) {
        return classDescription + vendorName.map(v -> ": " + v).orElse("");
      }
      return classDescription + ": " + vendorName.orElse("?") + " " + deviceName.get();
    }
  }

  private static String table(List<Listing> listings) {
    Table table =
        new Table(
            "ADDRESS", "ID", "CLASS", "DESCRIPTION", "DRIVER", "IOMMU", "NUMA", "NODES", "IN USE");
    for (Listing listing : listings) {
      PciFunction f = listing.function();
      table.row(
          f.address().toString(),
          f.id().toString(),
          f.classCode().toString(),
          listing.description(),
          f.driver().orElse("-")
              + f.driverOverride()
                  .filter(o -> !f.isBoundTo(o))
                  .map(o -> " (override " + o + ")")
                  .orElse(""),
          f.iommuGroup().isPresent()
              ? f.iommuGroup().getAsInt()
                  + (listing.groupMembers().isEmpty()
                      ? ""
                      : " (+" + listing.groupMembers().size() + ")")
              : "-",
          f.numaNode().isPresent() ? String.valueOf(f.numaNode().getAsInt()) : "-",
          listing.nodes().isEmpty()
              ? "-"
              : String.join(",", listing.nodes().stream().map(FunctionNode::name).toList()),
          listing.inUse().orElse("-"));
    }
    return table.toString();
  }

  private static String json(List<Listing> listings, List<PciScan.Problem> problems) {
    List<Object> entries = new ArrayList<>();
    for (Listing listing : listings) {
      PciFunction f = listing.function();
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("address", f.address().toString());
      entry.put("vendor", String.format("%04x", f.id().vendor()));
      entry.put("device", String.format("%04x", f.id().device()));
      entry.put("subsystem_vendor", String.format("%04x", f.subsystem().vendor()));
      entry.put("subsystem_device", String.format("%04x", f.subsystem().device()));
      entry.put("class", String.format("%06x", f.classCode().value()));
      entry.put("class_name", f.classCode().describe());
      entry.put("vendor_name", listing.vendorName().orElse(null));
      entry.put("device_name", listing.deviceName().orElse(null));
      entry.put("subsystem_name", listing.subsystemName().orElse(null));
      entry.put("revision", f.revision());
      entry.put("driver", f.driver().orElse(null));
      entry.put("driver_override", f.driverOverride().orElse(null));
      entry.put("iommu_group", f.iommuGroup().isPresent() ? f.iommuGroup().getAsInt() : null);
      entry.put(
          "iommu_group_members", listing.groupMembers().stream().map(Object::toString).toList());
      entry.put("numa_node", f.numaNode().isPresent() ? f.numaNode().getAsInt() : null);
      List<Object> nodes = new ArrayList<>();
      for (FunctionNode node : listing.nodes()) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("name", node.name());
        n.put("kind", node.kind().name().toLowerCase(java.util.Locale.ROOT));
        nodes.add(n);
      }
      entry.put("nodes", nodes);
      entry.put("in_use", listing.inUse().orElse(null));
      entries.add(entry);
    }
    List<Object> unread = new ArrayList<>();
    for (PciScan.Problem problem : problems) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("entry", problem.name());
      entry.put("kind", problem.kind().name().toLowerCase(java.util.Locale.ROOT));
      entry.put("detail", problem.detail());
      unread.add(entry);
    }
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("schema", SCHEMA);
    document.put("complete", problems.isEmpty());
    document.put("functions", entries);
    document.put("problems", unread);
    return Json.write(document);
  }
}
