package dev.upcie.tools.nvme;

import dev.upcie.nvme.driver.IdentifyController;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.support.Sizes;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.UsageException;
import dev.upcie.tools.output.Json;
import java.io.Console;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme perf}: a small fio-like load through the reference driver: bring-up, identify,
 * then I/O at a queue depth for a time or a count, reporting IOPS, bandwidth and latency
 * percentiles. Its {@code --json} output ({@value #SCHEMA}) is what benchmarks record, so its keys
 * only ever grow.
 */
@Command(
    name = "perf",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Measure I/O through the user-space driver, as a small fio: bring the controller up,"
          + " identify it, then keep --qd I/Os of --bs bytes in flight on one queue pair for"
          + " --time or --count I/Os, and report IOPS, bandwidth (MiB/s) and latency (mean,"
          + " p50, p90, p99, p99.9, max, in microseconds). On a terminal, a line on stderr shows"
          + " progress once a second.",
      "--verify first fills the region with a pattern of each block's LBA (writes carry it"
          + " too), then checks every block read; a mismatch fails the run, naming the first"
          + " bad LBA.",
      "--json prints schema "
          + PerfCommand.SCHEMA
          + ": {schema, device {address, backend, simulated}, controller {model, serial,"
          + " firmware, version, max_transfer_bytes}, namespace {nsid, block_size, blocks, bytes},"
          + " job {rw, bs, queue_depth, region_bytes, time_limit_ms, count_limit, ramp_ms, pattern"
          + " (random, 0xNN, or lba with --verify), verify, interrupts}, result {ios, reads,"
          + " writes, errors, bytes, elapsed_ms, iops, bandwidth_mib_s, latency_us {min, mean,"
          + " p50, p90, p99, p99_9, max}, verify {blocks_checked, mismatches, first_bad_lba} or"
          + " null}}. Keys are only ever added; time_limit_ms or count_limit is null, whichever"
          + " did not limit the run.",
      "Examples: upcie nvme perf | upcie nvme perf 0000:01:00.0 --rw randwrite --bs 16k --qd 64"
          + " --time 10s | upcie nvme perf --sim --count 2000 --qd 8 --verify --json"
    })
public final class PerfCommand implements Callable<Integer> {
  /** The JSON schema name and version of {@code --json}. */
  static final String SCHEMA = "upcie.nvme.perf/1";

  private static final long DEFAULT_REGION = 64L << 20;
  private static final Pattern DURATION =
      Pattern.compile("(?<number>[0-9]+)\\s*(?<unit>ms|s|m|h)?", Pattern.CASE_INSENSITIVE);
  private static final Pattern BYTE = Pattern.compile("0x[0-9a-fA-F]{1,2}");

  @Mixin NvmeTarget target;

  @Option(
      names = {"-n", "--namespace-id"},
      paramLabel = "NSID",
      converter = Numbers.NamespaceId.class,
      description = "The namespace (default: 1).")
  int nsid = 1;

  @Option(
      names = "--rw",
      paramLabel = "MODE",
      description = "randread (default), randwrite, read, write or randrw (half reads).")
  PerfJob.Mode mode = PerfJob.Mode.RANDREAD;

  @Option(
      names = "--bs",
      paramLabel = "SIZE",
      converter = Numbers.Size.class,
      description = "Bytes per I/O, whole blocks (default: 4k).")
  long blockSize = 4096;

  @Option(
      names = "--qd",
      paramLabel = "N",
      description = "I/Os in flight (default: 32); the queue pair has N + 1 entries.")
  int queueDepth = 32;

  @Option(
      names = "--time",
      paramLabel = "DURATION",
      description = "How long to run: 3s (the default), 500ms, 1m.")
  String time;

  @Option(
      names = "--ramp",
      paramLabel = "DURATION",
      description =
          "Run the load this long first, unmeasured, as fio's ramp_time: lets the JIT compile"
              + " the I/O path before the clock starts (default: 0).")
  String ramp;

  @Option(
      names = "--count",
      paramLabel = "N",
      description = "How many I/Os to run, instead of --time.")
  Long count;

  @Option(
      names = "--size",
      paramLabel = "SIZE",
      converter = Numbers.Size.class,
      description =
          "The region I/Os fall in, from block 0 (default: 64M, or the namespace if smaller).")
  Long size;

  @Option(
      names = "--pattern",
      paramLabel = "PATTERN",
      description = "What writes carry: a byte (0xa5) or random (the default: random bytes).")
  String pattern;

  @Option(names = "--verify", description = "Check every block read (see above).")
  boolean verify;

  @Option(
      names = "--interrupts",
      description = "Wait for completions on an interrupt, not by polling.")
  boolean interrupts;

  @Option(names = "--json", description = "Print JSON (schema " + SCHEMA + ") instead of text.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    checkOptions();
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try (OpenController nvme = target.open(err)) {
      NvmeController controller = nvme.controller();
      NvmeNamespace ns = NvmeTarget.namespace(controller, nsid);
      PerfJob job = job(controller, ns);
      Map<String, Object> document = new LinkedHashMap<>();
      document.put("schema", SCHEMA);
      document.put("device", device(nvme));
      document.put("controller", controller(controller));
      document.put("namespace", namespace(ns));
      document.put("job", job(job));
      if (!json) {
        out.print(identity(nvme, ns, job));
        out.flush();
      }
      PerfResult result;
      try {
        result = new PerfRun(controller, ns, job, progress(err)).run();
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      } finally {
        endProgress(err);
      }
      document.put("result", result(result, job));
      out.print(json ? Json.write(document) : text(result, job));
      out.flush();
      return outcome(result, nvme, ns, err);
    }
  }

  /** What can be checked before the device is opened. */
  private void checkOptions() {
    rampTime(); // parsed now, so a bad value is refused before the device is opened
    if (queueDepth < 1) {
      throw new UsageException("--qd " + queueDepth + ": at least 1 I/O must be in flight");
    }
    if (time != null && count != null) {
      throw new UsageException("--time and --count both limit the run; give one");
    }
    if (count != null && count < 1) {
      throw new UsageException("--count " + count + ": at least 1 I/O");
    }
    if (time != null && timeLimit().isZero()) {
      throw new UsageException("--time " + time + ": the run must last some time");
    }
    if (verify && pattern != null) {
      throw new UsageException(
          "--verify writes a pattern of each block's LBA, so it takes no --pattern");
    }
    patternByte();
  }

  private PerfJob job(NvmeController controller, NvmeNamespace ns) {
    long block = ns.blockSize();
    if (blockSize < block || blockSize % block != 0) {
      throw new UsageException(
          "--bs "
              + blockSize
              + ": I/Os are whole blocks of namespace "
              + nsid
              + ", "
              + block
              + " bytes each");
    }
    long maxIo = Math.min(controller.maxTransferBytes(), 65536 * block);
    if (blockSize > maxIo) {
      throw new UsageException(
          "--bs "
              + blockSize
              + ": one I/O moves at most "
              + maxIo
              + " bytes on this controller (MDTS)");
    }
    int maxDepth = controller.capabilities().mqes(); // one entry of a queue always stays empty
    if (queueDepth > maxDepth) {
      throw new UsageException(
          "--qd "
              + queueDepth
              + ": this controller keeps at most "
              + maxDepth
              + " commands in flight on a queue (CAP.MQES)");
    }
    long region = size == null ? Math.min(DEFAULT_REGION, ns.bytes()) : size;
    if (region > ns.bytes()) {
      throw new UsageException(
          "--size "
              + region
              + ": namespace "
              + nsid
              + " holds "
              + ns.bytes()
              + " bytes ("
              + Sizes.human(ns.bytes())
              + ")");
    }
    region -= region % blockSize;
    if (region < blockSize) {
      throw new UsageException(
          "the region (--size) must hold at least one I/O of --bs " + blockSize + " bytes");
    }
    return new PerfJob(
        mode,
        blockSize,
        queueDepth,
        region,
        count == null ? timeLimit().toNanos() : 0,
        count == null ? 0 : count,
        patternByte(),
        verify,
        interrupts,
        rampTime().toNanos());
  }

  private Duration timeLimit() {
    return time == null ? Duration.ofSeconds(3) : duration("--time", time);
  }

  private Duration rampTime() {
    return ramp == null ? Duration.ZERO : duration("--ramp", ramp);
  }

  private static Duration duration(String option, String text) {
    Matcher m = DURATION.matcher(text.strip());
    if (!m.matches()) {
      throw new UsageException(
          "invalid "
              + option
              + " \""
              + text
              + "\": expected a whole number with ms, s, m or h, e.g. 3s");
    }
    long n;
    try {
      n = Long.parseLong(m.group("number"));
    } catch (NumberFormatException e) {
      throw new UsageException("invalid " + option + " \"" + text + "\": too long");
    }
    String unit = m.group("unit") == null ? "s" : m.group("unit").toLowerCase(Locale.ROOT);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }

  private int patternByte() {
    if (pattern == null || pattern.equalsIgnoreCase("random")) {
      return PerfJob.RANDOM;
    }
    if (!BYTE.matcher(pattern.strip()).matches()) {
      throw new UsageException(
          "invalid --pattern \"" + pattern + "\": expected a byte such as 0xa5, or random");
    }
    return Integer.parseInt(pattern.strip().substring(2), 16);
  }

  /** The controller and job, before the run: what bring-up and identify found. */
  private static String identity(OpenController nvme, NvmeNamespace ns, PerfJob job) {
    IdentifyController id = nvme.controller().identify();
    String limit =
        job.count() == 0
            ? "for " + Duration.ofNanos(job.timeLimitNanos()).toMillis() / 1000.0 + " s"
            : job.count() + " I/Os";
    return String.format(
        Locale.ROOT,
        "controller  %s: %s, serial %s, firmware %s, NVMe %s%n"
            + "namespace   %d: %d blocks of %d bytes (%s)%n"
            + "job         %s, %d-byte I/Os, queue depth %d, %s over the first %s%s%s%n",
        nvme.name(),
        id.modelNumber(),
        id.serialNumber(),
        id.firmwareRevision(),
        nvme.controller().version(),
        ns.nsid(),
        ns.blocks(),
        ns.blockSize(),
        Sizes.human(ns.bytes()),
        job.mode(),
        job.ioBytes(),
        job.queueDepth(),
        limit,
        Sizes.human(job.regionBytes()),
        job.mode().writes() && !job.verify() ? ", pattern " + job.patternName() : "",
        (job.verify() ? ", verifying" : "") + (job.interrupts() ? ", interrupts" : ", polled"));
  }

  private static String text(PerfResult r, PerfJob job) {
    StringBuilder out = new StringBuilder();
    out.append(
        String.format(
            Locale.ROOT,
            "ios         %d (%d reads, %d writes), %d errors, in %.3f s%n"
                + "iops        %.1f%n"
                + "bandwidth   %.2f MiB/s%n"
                + "latency us  min %s  mean %s  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s%n",
            r.ios(),
            r.reads(),
            r.writes(),
            r.errors(),
            r.elapsedNanos() / 1e9,
            r.iops(),
            r.mibPerSecond(),
            micros(r.latencyMin()),
            micros(r.latencyMean()),
            micros(r.p50()),
            micros(r.p90()),
            micros(r.p99()),
            micros(r.p999()),
            micros(r.latencyMax())));
    if (job.verify()) {
      out.append(
          String.format(
              "verify      %d blocks checked, %d mismatches%n",
              r.verifiedBlocks(), r.mismatches()));
    }
    return out.toString();
  }

  private static String micros(double nanos) {
    return String.format(Locale.ROOT, "%.1f", nanos / 1000);
  }

  /** The exit status, and the one line that says why when the run failed. */
  private static int outcome(PerfResult r, OpenController nvme, NvmeNamespace ns, PrintWriter err) {
    if (r.mismatches() > 0) {
      err.println(
          "upcie: perf --verify: "
              + r.mismatches()
              + " of "
              + r.verifiedBlocks()
              + " blocks read back did not hold what was written; the first is LBA "
              + r.firstBadLba()
              + " of namespace "
              + ns.nsid()
              + " on "
              + nvme.name());
      err.flush();
      return ExitCode.FAILURE.code();
    }
    if (r.errors() > 0) {
      err.println(
          "upcie: perf: "
              + r.errors()
              + " of "
              + r.ios()
              + " I/Os failed on "
              + nvme.name()
              + "; the first: "
              + r.firstError());
      err.flush();
      return ExitCode.FAILURE.code();
    }
    return ExitCode.OK.code();
  }

  // ---- Progress: one line on a terminal, rewritten in place ----

  private static boolean onTerminal() {
    Console console = System.console();
    return console != null && console.isTerminal();
  }

  private static PerfRun.Progress progress(PrintWriter err) {
    if (!onTerminal()) {
      return null;
    }
    return (ios, elapsedNanos, lastSecond) -> {
      err.printf(
          Locale.ROOT, "\r[%4.0f s] %d IOPS, %d I/Os so far ", elapsedNanos / 1e9, lastSecond, ios);
      err.flush();
    };
  }

  private static void endProgress(PrintWriter err) {
    if (onTerminal()) {
      err.print("\r" + " ".repeat(60) + "\r");
      err.flush();
    }
  }

  // ---- JSON ----

  private static Map<String, Object> device(OpenController nvme) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("address", nvme.device().address().toString());
    o.put("backend", nvme.device().backend());
    o.put("simulated", nvme.simulated());
    return o;
  }

  private static Map<String, Object> controller(NvmeController controller) {
    IdentifyController id = controller.identify();
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("model", id.modelNumber());
    o.put("serial", id.serialNumber());
    o.put("firmware", id.firmwareRevision());
    o.put("version", controller.version().toString());
    o.put("max_transfer_bytes", controller.maxTransferBytes());
    return o;
  }

  private static Map<String, Object> namespace(NvmeNamespace ns) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("nsid", Integer.toUnsignedLong(ns.nsid()));
    o.put("block_size", ns.blockSize());
    o.put("blocks", ns.blocks());
    o.put("bytes", ns.bytes());
    return o;
  }

  private static Map<String, Object> job(PerfJob job) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("rw", job.mode().toString());
    o.put("bs", job.ioBytes());
    o.put("queue_depth", job.queueDepth());
    o.put("region_bytes", job.regionBytes());
    o.put("time_limit_ms", job.count() == 0 ? job.timeLimitNanos() / 1_000_000 : null);
    o.put("count_limit", job.count() == 0 ? null : job.count());
    o.put("ramp_ms", job.rampNanos() / 1_000_000);
    o.put("pattern", job.verify() ? "lba" : job.patternName());
    o.put("verify", job.verify());
    o.put("interrupts", job.interrupts());
    return o;
  }

  private static Map<String, Object> result(PerfResult r, PerfJob job) {
    Map<String, Object> latency = new LinkedHashMap<>();
    latency.put("min", round(r.latencyMin() / 1000.0));
    latency.put("mean", round(r.latencyMean() / 1000.0));
    latency.put("p50", round(r.p50() / 1000.0));
    latency.put("p90", round(r.p90() / 1000.0));
    latency.put("p99", round(r.p99() / 1000.0));
    latency.put("p99_9", round(r.p999() / 1000.0));
    latency.put("max", round(r.latencyMax() / 1000.0));
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("ios", r.ios());
    o.put("reads", r.reads());
    o.put("writes", r.writes());
    o.put("errors", r.errors());
    o.put("bytes", r.bytes());
    o.put("elapsed_ms", round(r.elapsedNanos() / 1e6));
    o.put("iops", round(r.iops()));
    o.put("bandwidth_mib_s", round(r.mibPerSecond()));
    o.put("latency_us", latency);
    if (job.verify()) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("blocks_checked", r.verifiedBlocks());
      v.put("mismatches", r.mismatches());
      v.put("first_bad_lba", r.firstBadLba() < 0 ? null : r.firstBadLba());
      o.put("verify", v);
    } else {
      o.put("verify", null);
    }
    return o;
  }

  /** Three decimals: enough for microseconds, and stable text. */
  private static double round(double value) {
    return Math.round(value * 1000) / 1000.0;
  }
}
