package dev.upcie.tools.devbind;

import dev.upcie.doctor.Diagnosis;
import dev.upcie.doctor.Doctor;
import dev.upcie.doctor.Finding;
import dev.upcie.host.Host;
import dev.upcie.support.Sizes;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.ProcfsOption;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.UsageException;
import dev.upcie.tools.output.Json;
import dev.upcie.tools.output.Table;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcie devbind doctor}: is this machine ready for user-space drivers, and if not, the exact
 * command that fixes each thing.
 */
@Command(
    name = "doctor",
    mixinStandardHelpOptions = true,
    description = {
      "Check the machine for user-space drivers: the IOMMU and the kernel command line, the VFIO"
          + " and UIO modules, no-IOMMU mode, iommufd, VFIO's DMA mapping limit, lockdown, a"
          + " read-only /sys, the locked-memory limit, hugepages and their mounts. Each finding"
          + " comes with the command that fixes it.",
      "Reads only, so it needs no root; what it cannot read without root it reports as UNKNOWN."
          + " Exit status 7 when something is a PROBLEM (no user-space driver can work until it"
          + " is fixed), 0 otherwise."
    })
public final class DoctorCommand implements Callable<Integer> {
  /** The JSON schema name and version of {@code --json}. */
  static final String SCHEMA = "upcie.devbind.doctor/1";

  @Mixin SysfsOption sysfs;
  @Mixin ProcfsOption procfs;

  @Option(names = "--json", description = "Print JSON (schema " + SCHEMA + ") instead of a table.")
  boolean json;

  @Option(
      names = "--modules-root",
      paramLabel = "DIR",
      description =
          "Read the module index (RELEASE/modules.builtin, modules.dep) under this directory"
              + " instead of /lib/modules.")
  Path modulesRoot;

  @Option(
      names = "--memlock-need",
      paramLabel = "SIZE",
      description =
          "Hold the locked-memory limit to this much DMA memory (default: every reserved"
              + " hugepage, at least 64M).")
  String memlockNeed;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    Doctor doctor = Doctor.of(host());
    if (modulesRoot != null) {
      if (!Files.isDirectory(modulesRoot)) {
        throw new UsageException("--modules-root " + modulesRoot + ": no such directory");
      }
      doctor = doctor.withModules(modulesRoot);
    }
    if (memlockNeed != null) {
      doctor = doctor.withMemlockNeed(Sizes.parse(memlockNeed));
    }
    Diagnosis diagnosis = doctor.examine();
    spec.commandLine().getOut().print(json ? json(diagnosis) : table(diagnosis));
    spec.commandLine().getOut().flush();
    return diagnosis.hasProblems() ? ExitCode.ENVIRONMENT.code() : ExitCode.OK.code();
  }

  /**
   * The machine the options name: this one; the simulated one; or one whose sysfs and procfs are
   * the trees named, each defaulting to this machine's.
   */
  private Host host() {
    if (!sysfs.isSet() && !procfs.isSet()) {
      return Host.system();
    }
    if (sysfs.isSimulated() && !procfs.isSet()) {
      return sysfs.simulatedMachine();
    }
    Path dev = sysfs.isSimulated() ? sysfs.simulatedMachine().dev() : Path.of("/dev");
    return Host.of(sysfs.sysfs(), procfs.procfs(sysfs), dev);
  }

  private static String table(Diagnosis diagnosis) {
    Table table = new Table("STATUS", "CHECK", "FINDING");
    for (Finding f : diagnosis.findings()) {
      table.row(f.status().name(), f.id(), f.found() + f.fix().map(c -> "; fix: " + c).orElse(""));
    }
    return table + "\n" + summary(diagnosis) + "\n";
  }

  /** One closing line: how many of each, and what the exit status will say. */
  private static String summary(Diagnosis diagnosis) {
    List<String> counts = new ArrayList<>();
    for (Finding.Status status :
        List.of(Finding.Status.PROBLEM, Finding.Status.WARNING, Finding.Status.UNKNOWN)) {
      long n = diagnosis.findings().stream().filter(f -> f.status() == status).count();
      if (n > 0) {
        counts.add(n + " " + status.name().toLowerCase(Locale.ROOT) + (n == 1 ? "" : "s"));
      }
    }
    String tally = counts.isEmpty() ? "all OK" : String.join(", ", counts);
    return diagnosis.hasProblems()
        ? tally + ": user-space drivers cannot work here until the problems are fixed"
        : tally + ": ready for user-space drivers";
  }

  private static String json(Diagnosis diagnosis) {
    List<Object> findings = new ArrayList<>();
    for (Finding f : diagnosis.findings()) {
      Map<String, Object> entry = new LinkedHashMap<>();
      entry.put("id", f.id());
      entry.put("status", f.status().name().toLowerCase(Locale.ROOT));
      entry.put("found", f.found());
      entry.put("fix", f.fix().orElse(null));
      findings.add(entry);
    }
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("schema", SCHEMA);
    document.put("ready", !diagnosis.hasProblems());
    document.put("findings", findings);
    return Json.write(document);
  }
}
