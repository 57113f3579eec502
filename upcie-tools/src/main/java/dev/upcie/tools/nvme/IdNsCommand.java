package dev.upcie.tools.nvme;

import static dev.upcie.tools.nvme.NvmeCliFormat.hex;

import dev.upcie.nvme.NvmeStatus;
import dev.upcie.nvme.driver.IdentifyNamespace;
import dev.upcie.nvme.driver.LbaFormat;
import dev.upcie.nvme.driver.NvmeCommandException;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.UsageException;
import dev.upcie.tools.output.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme id-ns}: a namespace's Identify Namespace data, as {@code nvme id-ns} prints it
 * (text, or {@code -o json}'s object with {@code --json}), for the fields the driver decodes
 * ({@link IdentifyNamespace}).
 */
@Command(
    name = "id-ns",
    mixinStandardHelpOptions = true,
    description = {
      "Identify Namespace: print a namespace's size, capacity, use and LBA formats as nvme id-ns"
          + " does (the fields the driver decodes, in nvme-cli's order, names and number formats).",
      "--json prints nvme id-ns -o json's object (nvmcap as a decimal string, as nvme-cli 2.3).",
      "Example: upcie nvme id-ns 0000:01:00.0 -n 1"
    })
public final class IdNsCommand implements Callable<Integer> {
  @Mixin NvmeTarget target;

  @Option(
      names = {"-n", "--namespace-id"},
      paramLabel = "NSID",
      converter = Numbers.NamespaceId.class,
      description = "The namespace (default: 1).")
  int nsid = 1;

  @Option(names = "--json", description = "Print JSON (as nvme id-ns -o json) instead of text.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    IdentifyNamespace ns;
    try (OpenController nvme = target.open(spec.commandLine().getErr())) {
      try {
        ns = nvme.controller().identifyNamespace(nsid);
      } catch (NvmeCommandException e) {
        if (e.statusCode() != NvmeStatus.INVALID_NAMESPACE) {
          throw e;
        }
        ns = null;
      }
      if (ns == null || !ns.active()) {
        throw new UsageException(
            "namespace "
                + Integer.toUnsignedString(nsid)
                + (ns == null ? " does not exist on " : " is not active on ")
                + nvme.name()
                + "; active namespaces: "
                + nvme.controller().activeNamespaces());
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? Json.write(json(ns)) : text(ns));
    out.flush();
    return ExitCode.OK.code();
  }

  /** nvme-cli's {@code nvme_show_id_ns}, line by line (its odd {@code nsattr} tab included). */
  static String text(IdentifyNamespace ns) {
    StringBuilder out = new StringBuilder();
    out.append("NVME Identify Namespace ")
        .append(Integer.toUnsignedString(ns.nsid()))
        .append(":\n");
    line(out, "nsze", hex(ns.size()));
    line(out, "ncap", hex(ns.capacity()));
    line(out, "nuse", hex(ns.utilization()));
    line(out, "nsfeat", hex(ns.features()));
    line(out, "nlbaf", ns.lbaFormatCount());
    line(out, "flbas", hex(ns.formattedLbaSize()));
    line(out, "mc", hex(ns.metadataCapabilities()));
    line(out, "dpc", hex(ns.protectionCapabilities()));
    line(out, "dps", hex(ns.protectionSettings()));
    line(out, "nmic", hex(ns.multipathCapabilities()));
    line(out, "rescap", hex(ns.reservationCapabilities()));
    line(out, "fpi", hex(ns.formatProgress()));
    line(out, "dlfeat", ns.deallocateFeatures());
    line(out, "nawun", ns.atomicWriteUnitNormal());
    line(out, "nawupf", ns.atomicWriteUnitPowerFail());
    line(out, "nacwu", ns.atomicCompareWriteUnit());
    line(out, "nabsn", ns.atomicBoundarySizeNormal());
    line(out, "nabo", ns.atomicBoundaryOffset());
    line(out, "nabspf", ns.atomicBoundarySizePowerFail());
    line(out, "noiob", ns.optimalIoBoundary());
    line(out, "nvmcap", ns.nvmCapacity());
    line(out, "mssrl", ns.maxSingleSourceRangeLength());
    line(out, "mcl", ns.maxCopyLength());
    line(out, "msrc", ns.maxSourceRangeCount());
    line(out, "anagrpid", ns.anaGroupId());
    out.append("nsattr\t: ").append(ns.attributes()).append('\n');
    line(out, "nvmsetid", ns.nvmSetId());
    line(out, "endgid", ns.enduranceGroupId());
    line(out, "nguid", ns.nguid());
    line(out, "eui64", ns.eui64());
    List<LbaFormat> formats = ns.lbaFormats();
    for (int i = 0; i < formats.size(); i++) {
      LbaFormat f = formats.get(i);
      out.append(
          String.format(
              "lbaf %2d : ms:%-3d lbads:%-2d rp:%s %s\n",
              i,
              f.metadataSize(),
              f.dataSizeShift(),
              hex(f.relativePerformance()),
              i == ns.formatIndex() ? "(in use)" : ""));
    }
    return out.toString();
  }

  private static void line(StringBuilder out, String key, Object value) {
    out.append(String.format("%-8s: %s\n", key, value));
  }

  /** nvme-cli's {@code json_nvme_id_ns}, key by key. */
  static Map<String, Object> json(IdentifyNamespace ns) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("nsze", ns.size());
    o.put("ncap", ns.capacity());
    o.put("nuse", ns.utilization());
    o.put("nsfeat", ns.features());
    o.put("nlbaf", ns.lbaFormatCount());
    o.put("flbas", ns.formattedLbaSize());
    o.put("mc", ns.metadataCapabilities());
    o.put("dpc", ns.protectionCapabilities());
    o.put("dps", ns.protectionSettings());
    o.put("nmic", ns.multipathCapabilities());
    o.put("rescap", ns.reservationCapabilities());
    o.put("fpi", ns.formatProgress());
    o.put("dlfeat", ns.deallocateFeatures());
    o.put("nawun", ns.atomicWriteUnitNormal());
    o.put("nawupf", ns.atomicWriteUnitPowerFail());
    o.put("nacwu", ns.atomicCompareWriteUnit());
    o.put("nabsn", ns.atomicBoundarySizeNormal());
    o.put("nabo", ns.atomicBoundaryOffset());
    o.put("nabspf", ns.atomicBoundarySizePowerFail());
    o.put("noiob", ns.optimalIoBoundary());
    o.put("nvmcap", ns.nvmCapacity().toString());
    o.put("nsattr", ns.attributes());
    o.put("nvmsetid", ns.nvmSetId());
    o.put("mssrl", ns.maxSingleSourceRangeLength());
    o.put("mcl", ns.maxCopyLength());
    o.put("msrc", ns.maxSourceRangeCount());
    o.put("anagrpid", ns.anaGroupId());
    o.put("endgid", ns.enduranceGroupId());
    o.put("eui64", ns.eui64());
    o.put("nguid", ns.nguid());
    List<Object> lbafs = new ArrayList<>();
    for (LbaFormat f : ns.lbaFormats()) {
      Map<String, Object> lbaf = new LinkedHashMap<>();
      lbaf.put("ms", f.metadataSize());
      lbaf.put("ds", f.dataSizeShift());
      lbaf.put("rp", f.relativePerformance());
      lbafs.add(lbaf);
    }
    o.put("lbafs", lbafs);
    return o;
  }
}
