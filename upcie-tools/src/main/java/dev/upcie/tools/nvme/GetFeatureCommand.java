package dev.upcie.tools.nvme;

import dev.upcie.tools.ExitCode;
import dev.upcie.tools.UsageException;
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
 * {@code upcie nvme get-feature}: one feature's value (Get Features, Dword 0 of the completion), as
 * {@code nvme get-feature} prints it.
 */
@Command(
    name = "get-feature",
    mixinStandardHelpOptions = true,
    description = {
      "Get Features: print one feature's value as nvme get-feature does, e.g."
          + " get-feature:0x07 (Number of Queues), Current value:0x003f003f.",
      "Reads features whose value is Dword 0 of the completion; features that return a data"
          + " structure (LBA Range Type, Timestamp, Host Behavior...) are refused, unless --sel 3.",
      "--json prints {\"fid\", \"feature\", \"sel\", \"select\", \"nsid\", \"cdw11\", \"value\"}.",
      "Example: upcie nvme get-feature 0000:01:00.0 -f 7"
    })
public final class GetFeatureCommand implements Callable<Integer> {
  /** The broadcast namespace id: what nvme-cli sends to a controller when given no namespace. */
  private static final int NSID_ALL = 0xffff_ffff;

  @Mixin NvmeTarget target;

  @Option(
      names = {"-f", "--feature-id"},
      required = true,
      paramLabel = "FID",
      converter = Numbers.Unsigned.class,
      description = "The feature identifier, decimal or 0x hexadecimal (7 is Number of Queues).")
  long fid;

  @Option(
      names = {"-s", "--sel"},
      paramLabel = "SEL",
      description = "0 current (default), 1 default, 2 saved, 3 supported capabilities.")
  int select;

  @Option(
      names = {"-n", "--namespace-id"},
      paramLabel = "NSID",
      converter = Numbers.Unsigned.class,
      description = "The namespace, for namespace-specific features (default: ffffffff, all).")
  long nsid = Integer.toUnsignedLong(NSID_ALL);

  @Option(
      names = {"-c", "--cdw11"},
      paramLabel = "VALUE",
      converter = Numbers.Unsigned.class,
      description = "Command Dword 11, for features that take one (default: 0).")
  long cdw11;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (fid < 0 || fid > 0xff) {
      throw new UsageException("--feature-id " + fid + ": a feature id is 0 to 0xff");
    }
    if (select < 0 || select > 3) {
      throw new UsageException(
          "--sel " + select + ": 0 (current), 1 (default), 2 (saved) or 3 (capabilities)");
    }
    Numbers.checkDword("--namespace-id", nsid);
    Numbers.checkDword("--cdw11", cdw11);
    int value;
    try (OpenController nvme = target.open(spec.commandLine().getErr())) {
      value = nvme.controller().getFeature((int) fid, select, (int) nsid, (int) cdw11);
    }
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? Json.write(json(value)) : text(value));
    out.flush();
    return ExitCode.OK.code();
  }

  /** nvme-cli's {@code get_feature_id_print}. */
  String text(int value) {
    long result = Integer.toUnsignedLong(value);
    StringBuilder out = new StringBuilder();
    out.append("get-feature:")
        .append(NvmeCliFormat.hex(fid, fid == 0 ? 2 : 4))
        .append(" (")
        .append(NvmeCliFormat.featureName((int) fid))
        .append("), ")
        .append(NvmeCliFormat.selectName(select))
        .append(" value:")
        .append(NvmeCliFormat.hex(result, result == 0 ? 8 : 10))
        .append('\n');
    if (select == 3) {
      if ((result & 0x1) != 0) {
        out.append("  Feature is saveable\n");
      }
      if ((result & 0x2) != 0) {
        out.append("  Feature is per-namespace\n");
      }
      if ((result & 0x4) != 0) {
        out.append("  Feature is changeable\n");
      }
    }
    return out.toString();
  }

  private Map<String, Object> json(int value) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("schema", "upcie.nvme.get-feature/1");
    o.put("fid", (int) fid);
    o.put("feature", NvmeCliFormat.featureName((int) fid));
    o.put("sel", select);
    o.put("select", NvmeCliFormat.selectName(select));
    o.put("nsid", nsid);
    o.put("cdw11", cdw11);
    o.put("value", Integer.toUnsignedLong(value));
    return o;
  }
}
