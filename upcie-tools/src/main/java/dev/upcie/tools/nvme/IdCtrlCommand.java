package dev.upcie.tools.nvme;

import static dev.upcie.tools.nvme.NvmeCliFormat.hex;
import static dev.upcie.tools.nvme.NvmeCliFormat.padded;

import dev.upcie.nvme.driver.IdentifyController;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.output.Json;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme id-ctrl}: the controller's Identify Controller data, as {@code nvme id-ctrl}
 * prints it (text, or {@code -o json}'s object with {@code --json}), for the fields the driver
 * decodes ({@link IdentifyController}).
 */
@Command(
    name = "id-ctrl",
    mixinStandardHelpOptions = true,
    description = {
      "Identify Controller: print the controller's identity and capabilities as nvme id-ctrl does"
          + " (the fields the driver decodes, in nvme-cli's order, names and number formats).",
      "--json prints nvme id-ctrl -o json's object: numbers as numbers, 128-bit capacities as"
          + " decimal strings and sn, mn, fr with their space padding, as nvme-cli 2.3 does.",
      "Example: upcie nvme id-ctrl 0000:01:00.0 --json"
    })
public final class IdCtrlCommand implements Callable<Integer> {
  @Mixin NvmeTarget target;

  @Option(names = "--json", description = "Print JSON (as nvme id-ctrl -o json) instead of text.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    IdentifyController id;
    try (OpenController nvme = target.open(spec.commandLine().getErr())) {
      id = nvme.controller().identify();
    }
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? Json.write(json(id)) : text(id));
    out.flush();
    return ExitCode.OK.code();
  }

  /** nvme-cli's {@code nvme_show_id_ctrl}, line by line. */
  static String text(IdentifyController id) {
    StringBuilder out = new StringBuilder("NVME Identify Controller:\n");
    line(out, "vid", hex(id.vendorId()));
    line(out, "ssvid", hex(id.subsystemVendorId()));
    line(out, "sn", padded(id.serialNumber(), 20));
    line(out, "mn", padded(id.modelNumber(), 40));
    line(out, "fr", padded(id.firmwareRevision(), 8));
    line(out, "rab", id.recommendedArbitrationBurst());
    line(out, "ieee", String.format("%06x", id.ieeeOui()));
    line(out, "cmic", hex(id.multipathCapabilities()));
    line(out, "mdts", id.maxDataTransferSize());
    line(out, "cntlid", hex(id.controllerId()));
    line(out, "ver", hex(Integer.toUnsignedLong(id.version().value())));
    line(out, "rtd3r", hex(id.rtd3ResumeLatency()));
    line(out, "rtd3e", hex(id.rtd3EntryLatency()));
    line(out, "oaes", hex(id.asyncEventsSupported()));
    line(out, "ctratt", hex(id.controllerAttributes()));
    line(out, "cntrltype", id.controllerType());
    line(out, "oacs", hex(id.optionalAdminCommands()));
    line(out, "acl", id.abortCommandLimit());
    line(out, "aerl", id.asyncEventRequestLimit());
    line(out, "frmw", hex(id.firmwareUpdates()));
    line(out, "lpa", hex(id.logPageAttributes()));
    line(out, "elpe", id.errorLogEntries());
    line(out, "npss", id.powerStates());
    line(out, "wctemp", id.warningTemperature());
    line(out, "cctemp", id.criticalTemperature());
    line(out, "tnvmcap", id.totalCapacity());
    line(out, "unvmcap", id.unallocatedCapacity());
    line(out, "sqes", hex(id.submissionEntrySizes()));
    line(out, "cqes", hex(id.completionEntrySizes()));
    line(out, "maxcmd", id.maxOutstandingCommands());
    line(out, "nn", id.namespaceCount());
    line(out, "oncs", hex(id.optionalNvmCommands()));
    line(out, "fuses", hex(id.fusedOperations()));
    line(out, "fna", hex(id.formatAttributes()));
    line(out, "vwc", hex(id.volatileWriteCache()));
    line(out, "awun", id.atomicWriteUnitNormal());
    line(out, "awupf", id.atomicWriteUnitPowerFail());
    line(out, "acwu", id.atomicCompareWriteUnit());
    line(out, "sgls", hex(id.sglSupport()));
    line(out, "mnan", id.maxAllowedNamespaces());
    line(out, "subnqn", id.subsystemNqn());
    return out.toString();
  }

  private static void line(StringBuilder out, String key, Object value) {
    out.append(String.format("%-10s: %s\n", key, value));
  }

  /** nvme-cli's {@code json_nvme_id_ctrl}, key by key. */
  static Map<String, Object> json(IdentifyController id) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("vid", id.vendorId());
    o.put("ssvid", id.subsystemVendorId());
    o.put("sn", padded(id.serialNumber(), 20));
    o.put("mn", padded(id.modelNumber(), 40));
    o.put("fr", padded(id.firmwareRevision(), 8));
    o.put("rab", id.recommendedArbitrationBurst());
    o.put("ieee", id.ieeeOui());
    o.put("cmic", id.multipathCapabilities());
    o.put("mdts", id.maxDataTransferSize());
    o.put("cntlid", id.controllerId());
    o.put("ver", Integer.toUnsignedLong(id.version().value()));
    o.put("rtd3r", id.rtd3ResumeLatency());
    o.put("rtd3e", id.rtd3EntryLatency());
    o.put("oaes", id.asyncEventsSupported());
    o.put("ctratt", id.controllerAttributes());
    o.put("cntrltype", id.controllerType());
    o.put("oacs", id.optionalAdminCommands());
    o.put("acl", id.abortCommandLimit());
    o.put("aerl", id.asyncEventRequestLimit());
    o.put("frmw", id.firmwareUpdates());
    o.put("lpa", id.logPageAttributes());
    o.put("elpe", id.errorLogEntries());
    o.put("npss", id.powerStates());
    o.put("wctemp", id.warningTemperature());
    o.put("cctemp", id.criticalTemperature());
    o.put("tnvmcap", id.totalCapacity().toString());
    o.put("unvmcap", id.unallocatedCapacity().toString());
    o.put("sqes", id.submissionEntrySizes());
    o.put("cqes", id.completionEntrySizes());
    o.put("maxcmd", id.maxOutstandingCommands());
    o.put("nn", id.namespaceCount());
    o.put("oncs", id.optionalNvmCommands());
    o.put("fuses", id.fusedOperations());
    o.put("fna", id.formatAttributes());
    o.put("vwc", id.volatileWriteCache());
    o.put("awun", id.atomicWriteUnitNormal());
    o.put("awupf", id.atomicWriteUnitPowerFail());
    o.put("acwu", id.atomicCompareWriteUnit());
    o.put("sgls", id.sglSupport());
    o.put("mnan", id.maxAllowedNamespaces());
    if (!id.subsystemNqn().isEmpty()) {
      o.put("subnqn", id.subsystemNqn());
    }
    return o;
  }
}
