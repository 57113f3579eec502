package dev.upcie.tools.nvme;

import dev.upcie.backend.DeviceBackend;
import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.nvme.driver.IdentifyController;
import dev.upcie.nvme.driver.IdentifyNamespace;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.SimBackend;
import dev.upcie.support.UpcieException;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.output.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme list}: every NVMe controller on the machine, as {@code nvme list} lists the
 * kernel's. Controllers bound to {@code vfio-pci} or {@code uio_pci_generic} are opened and
 * identified (serial, model, firmware, namespaces); those on another driver are listed with it and
 * never touched. Where none is usable, the simulated QEMU controller is listed instead.
 */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = {
      "List NVMe controllers as nvme list does: for each namespace of a controller bound to"
          + " vfio-pci or uio_pci_generic, its serial, model, usage, format and firmware;"
          + " controllers on another driver (such as the kernel's nvme) are listed with their"
          + " driver and left alone. With none usable, lists the simulated QEMU controller.",
      "--json prints schema "
          + NvmeListCommand.SCHEMA
          + ": {\"schema\", \"Devices\": [{\"Address\", \"Id\", \"Driver\", \"Backend\","
          + " \"Simulated\", \"SerialNumber\", \"ModelNumber\", \"Firmware\", \"Error\","
          + " \"Namespaces\": [{\"NSID\", \"UsedBytes\", \"MaximumLBA\", \"PhysicalSize\","
          + " \"SectorSize\"}]}]}, with nvme list -o json -v's names.",
      "Example: upcie nvme list --json"
    })
public final class NvmeListCommand implements Callable<Integer> {
  /** The JSON schema name and version of {@code --json}. */
  static final String SCHEMA = "upcie.nvme.list/1";

  private static final String ROW = "%-12s %-16s %-20s %-40s %-9s %-26s %-16s %-8s";

  @Option(names = "--sim", description = "List only the simulated QEMU NVMe controller.")
  boolean sim;

  @Option(names = "--json", description = "Print JSON (schema " + SCHEMA + ") instead of a table.")
  boolean json;

  @Mixin SysfsOption sysfs;

  @Spec CommandLine.Model.CommandSpec spec;

  /**
   * One controller as listed.
   *
   * @param function the PCI function
   * @param backend the backend it was opened through; empty if it was not
   * @param simulated true for the simulator's controller
   * @param identify Identify Controller; null if not opened
   * @param namespaces Identify Namespace of each active namespace
   * @param error why opening failed; null if it did not
   */
  record Entry(
      PciFunction function,
      Optional<String> backend,
      boolean simulated,
      IdentifyController identify,
      List<IdentifyNamespace> namespaces,
      String error) {}

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    Optional<Host> named = sysfs.host();
    Function<DeviceBackend, Host> hostFor = b -> named.orElseGet(b::defaultHost);
    List<Entry> entries = new ArrayList<>();
    boolean usable = false;
    boolean failed = false;
    if (!sim) {
      List<String> drivers = NvmeTarget.userSpaceDrivers();
      for (PciFunction f : NvmeTarget.nvmeFunctions(named.orElseGet(Host::system))) {
        if (drivers.stream().noneMatch(f::isBoundTo)) {
          entries.add(new Entry(f, Optional.empty(), false, null, List.of(), null));
          continue;
        }
        usable = true;
        try {
          entries.add(
              identify(
                  DeviceBackends.choose(
                      DeviceBackends.AUTO, PciSelector.any().withAddress(f.address()), hostFor),
                  named.orElse(null)));
        } catch (UpcieException e) {
          failed = true;
          err.println("upcie: cannot list " + f.address() + ": " + e.getMessage());
          entries.add(new Entry(f, Optional.empty(), false, null, List.of(), e.getMessage()));
        }
      }
    }
    if (!usable) {
      err.println(
          sim
              ? "upcie: listing the simulated QEMU NVMe controller (--sim)"
              : "upcie: no NVMe controller is bound to "
                  + String.join(" or ", NvmeTarget.userSpaceDrivers())
                  + " here; listing the simulated QEMU controller");
      entries.add(
          identify(
              DeviceBackends.choose(
                  SimBackend.NAME,
                  PciSelector.any().withClass(PciClassCode.NVME),
                  DeviceBackend::defaultHost),
              null));
    }
    if (usable && sysfs.isSimulated()) {
      err.println(
          "upcie: the controllers listed are simulated (--sysfs-root " + sysfs.root() + ")");
    }
    err.flush();
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? json(entries) : table(entries));
    out.flush();
    return failed ? ExitCode.FAILURE.code() : ExitCode.OK.code();
  }

  /**
   * Opens the chosen controller and reads its Identify data and its namespaces'; leaves {@code
   * keep}, the machine the user named, running for the next.
   */
  private static Entry identify(DeviceBackends.Choice choice, Host keep) {
    try (OpenController nvme = OpenController.open(choice, keep)) {
      List<IdentifyNamespace> namespaces = new ArrayList<>();
      for (int nsid : nvme.controller().activeNamespaces()) {
        namespaces.add(nvme.controller().identifyNamespace(nsid));
      }
      return new Entry(
          nvme.device().function(),
          Optional.of(nvme.device().backend()),
          nvme.simulated(),
          nvme.controller().identify(),
          namespaces,
          null);
    }
  }

  private static String driver(Entry e) {
    return e.function().driver().orElse("-") + (e.simulated() ? " (sim)" : "");
  }

  /** nvme-cli's {@code nvme_show_simple_list}, with the PCI address and driver for its nodes. */
  static String table(List<Entry> entries) {
    StringBuilder out = new StringBuilder();
    row(out, "Device", "Driver", "SN", "Model", "Namespace", "Usage", "Format", "FW Rev");
    String dash = "-".repeat(40);
    row(
        out,
        dash.substring(0, 12),
        dash.substring(0, 16),
        dash.substring(0, 20),
        dash,
        dash.substring(0, 9),
        dash.substring(0, 26),
        dash.substring(0, 16),
        dash.substring(0, 8));
    for (Entry e : entries) {
      String address = e.function().address().toString();
      IdentifyController id = e.identify();
      if (id == null) {
        row(out, address, driver(e), "-", "-", "-", "-", "-", "-");
        continue;
      }
      if (e.namespaces().isEmpty()) {
        row(
            out,
            address,
            driver(e),
            id.serialNumber(),
            id.modelNumber(),
            "-",
            "-",
            "-",
            id.firmwareRevision());
      }
      for (IdentifyNamespace ns : e.namespaces()) {
        row(
            out,
            address,
            driver(e),
            id.serialNumber(),
            id.modelNumber(),
            Integer.toUnsignedString(ns.nsid()),
            NvmeCliFormat.usage(ns.utilization() * ns.blockSize(), ns.size() * ns.blockSize()),
            NvmeCliFormat.format(ns.blockSize(), ns.format().metadataSize()),
            id.firmwareRevision());
      }
    }
    return out.toString();
  }

  private static void row(StringBuilder out, String... cells) {
    out.append(String.format(ROW, (Object[]) cells).stripTrailing()).append('\n');
  }

  static String json(List<Entry> entries) {
    List<Object> devices = new ArrayList<>();
    for (Entry e : entries) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("Address", e.function().address().toString());
      d.put("Id", e.function().id().toString());
      d.put("Driver", e.function().driver().orElse(null));
      d.put("Backend", e.backend().orElse(null));
      d.put("Simulated", e.simulated());
      IdentifyController id = e.identify();
      d.put("SerialNumber", id == null ? null : id.serialNumber());
      d.put("ModelNumber", id == null ? null : id.modelNumber());
      d.put("Firmware", id == null ? null : id.firmwareRevision());
      d.put("Error", e.error());
      List<Object> namespaces = new ArrayList<>();
      for (IdentifyNamespace ns : e.namespaces()) {
        Map<String, Object> n = new LinkedHashMap<>();
        n.put("NSID", Integer.toUnsignedLong(ns.nsid()));
        n.put("UsedBytes", ns.utilization() * ns.blockSize());
        n.put("MaximumLBA", ns.size());
        n.put("PhysicalSize", ns.size() * ns.blockSize());
        n.put("SectorSize", ns.blockSize());
        namespaces.add(n);
      }
      d.put("Namespaces", namespaces);
      devices.add(d);
    }
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("schema", SCHEMA);
    document.put("Devices", devices);
    return Json.write(document);
  }
}
