package dev.upcie.it.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.it.device.NvmeLayout;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The same QEMU controller measured two ways in one guest run, 4 KiB random reads at queue depth 1
 * and 32 over the same 32 MiB of a namespace of 4 KiB blocks ({@link #NSID}, namespace 2 in the
 * default layout): through the kernel's {@code nvme} driver with fio (io_uring, direct I/O) while
 * the kernel still holds the controller, and through our driver over VFIO with {@code upcie nvme
 * perf} after the tests. Both ramp up unmeasured first (fio's {@code ramp_time}, perf's {@code
 * --ramp}): the JVM compiles its I/O path in that time, slowly under TCG. A user-space driver saves
 * the system call and the interrupt per I/O; under TCG, where every MMIO exit and every guest
 * instruction is emulated, what that is worth shows here.
 */
final class NvmePerfVersusFio {
  /** Where in the guest's results the JSON of both tools goes. */
  static final String DIRECTORY = "perf";

  /** Written when the guest could not run one of the tools: why. */
  static final String ERROR_FILE = "error";

  static final int[] DEPTHS = {1, 32};

  /** The namespace both tools read: the layout's first of 4 KiB blocks. */
  static final int NSID = NvmeLayout.requested().withBlockSize(4096).nsid();

  /**
   * The block device, found in the guest by the namespace identifier sysfs gives each (since Linux
   * 4.5): the kernel numbers {@code nvme0nN} in the order its asynchronous scan finishes, which is
   * not always the identifiers' order.
   */
  private static final String DEVICE = "$perf_dev";

  private static final String REGION = "32M";

  private NvmePerfVersusFio() {}

  /**
   * Guest commands while the kernel's driver holds the controller: wait for the namespace's block
   * device, fill the region (so reads return data, not holes), then fio at each depth for {@code
   * seconds}. Failures are written to {@link #ERROR_FILE}, never stop the script.
   */
  static String fioCommands(int rampSeconds, int seconds) {
    StringBuilder runs = new StringBuilder();
    for (int depth : DEPTHS) {
      runs.append(
          """
            fio --name=randread-qd%1$d --filename=%2$s --ioengine="$engine" --direct=1 \\
              --rw=randread --bs=4k --iodepth=%1$d --size=%3$s --time_based --runtime=%4$d \\
              --ramp_time=%6$d --randrepeat=0 --output-format=json > "$perf_dir/fio-qd%1$d.json" \\
              2>> "$perf_dir/fio.log" \\
              || echo "fio at depth %1$d failed (exit $?): $(tail -n 3 "$perf_dir/fio.log")" >> "$perf_dir/%5$s"
          """
              .formatted(depth, DEVICE, REGION, seconds, ERROR_FILE, rampSeconds));
    }
    return """
    # The kernel's path, measured with fio before the binder takes the controller (NvmePerfVersusFio)
    perf_dir="$RESULTS/%1$s"
    mkdir -p "$perf_dir"
    perf_fio() {
      if ! command -v fio > /dev/null; then
        echo "fio is not installed (Debian package fio; ci/setup installs it)" >> "$perf_dir/%2$s"
        return
      fi
      deadline=$(( $(date +%%s) + 60 ))
      perf_dev=""
      until [ -n "$perf_dev" ] && [ -b "$perf_dev" ]; do
        for disk in /sys/block/nvme0n*; do
          if [ "$(cat "$disk/nsid" 2> /dev/null)" = %6$d ]; then
            perf_dev="/dev/${disk##*/}"
          fi
        done
        if [ "$(date +%%s)" -ge "$deadline" ]; then
          echo "no block device of namespace %6$d within 60 s of modprobe nvme" >> "$perf_dir/%2$s"
          return
        fi
        sleep 0.1
      done
      echo "upcie-guest: fio on namespace %6$d, $perf_dev" >&2
      engine=io_uring
      fio --name=probe --filename=%3$s --ioengine=io_uring --direct=1 --rw=read --bs=4k \\
        --size=4k --output-format=terse > /dev/null 2>&1 || engine=libaio
      echo "$engine" > "$perf_dir/fio-engine"
      fio --name=fill --filename=%3$s --ioengine="$engine" --direct=1 --rw=write --bs=1M \\
        --size=%4$s --output-format=terse > /dev/null 2>> "$perf_dir/fio.log" \\
        || echo "fio could not fill %3$s (exit $?)" >> "$perf_dir/%2$s"
    %5$s}
    perf_fio
    """
        .formatted(DIRECTORY, ERROR_FILE, DEVICE, REGION, runs, NSID);
  }

  /**
   * Guest commands after the tests, with the controller on vfio-pci: {@code upcie nvme perf} at
   * each depth for {@code seconds}, in a JVM with the full JIT (the test JVM's flags favour
   * start-up).
   */
  static String driverCommands(Path toolsJar, int rampSeconds, int seconds) {
    StringBuilder runs = new StringBuilder();
    for (int depth : DEPTHS) {
      runs.append(
          """
          jvm 'nvme perf, depth %1$d' -XX:-UsePerfData -XX:+UseSerialGC -Djava.io.tmpdir=/run/tmp \\
            --enable-native-access=ALL-UNNAMED -jar '%2$s' nvme perf -n %7$d --rw randread --bs 4k \\
            --qd %1$d --ramp %6$ds --time %3$ds --size %4$s --json > "$perf_dir/upcie-qd%1$d.json" \\
            || echo "upcie nvme perf at depth %1$d failed (exit $?)" >> "$perf_dir/%5$s"
          """
              .formatted(depth, toolsJar, seconds, REGION, ERROR_FILE, rampSeconds, NSID));
    }
    return "# Our driver through VFIO, the same load (NvmePerfVersusFio)\n" + runs;
  }

  /** One measurement: a tool at a queue depth. */
  record Figure(String tool, int depth, double iops, double meanMicros, double p50, double p99) {}

  /** Both tools' figures from the guest's results, each depth: fio's, then ours. */
  static List<Figure> figures(Path results) throws IOException {
    Path dir = results.resolve(DIRECTORY);
    ObjectMapper json = new ObjectMapper();
    String engine =
        Files.exists(dir.resolve("fio-engine"))
            ? Files.readString(dir.resolve("fio-engine")).strip()
            : "?";
    List<Figure> figures = new ArrayList<>();
    for (int depth : DEPTHS) {
      JsonNode read = json.readTree(dir.resolve("fio-qd" + depth + ".json").toFile());
      read = read.get("jobs").get(0).get("read");
      JsonNode percentiles = read.get("clat_ns").get("percentile");
      figures.add(
          new Figure(
              "kernel nvme + fio (" + engine + ")",
              depth,
              read.get("iops").asDouble(),
              read.get("lat_ns").get("mean").asDouble() / 1000,
              percentiles.get("50.000000").asDouble() / 1000,
              percentiles.get("99.000000").asDouble() / 1000));
      JsonNode ours = json.readTree(dir.resolve("upcie-qd" + depth + ".json").toFile());
      JsonNode result = ours.get("result");
      JsonNode latency = result.get("latency_us");
      figures.add(
          new Figure(
              "upcie driver (" + ours.get("device").get("backend").asText() + ")",
              depth,
              result.get("iops").asDouble(),
              latency.get("mean").asDouble(),
              latency.get("p50").asDouble(),
              latency.get("p99").asDouble()));
    }
    return figures;
  }

  /** The figures as a Markdown table, for the run's output and docs/benchmarks.md. */
  static String table(List<Figure> figures) {
    StringBuilder out =
        new StringBuilder(
            "| path | depth | IOPS | mean µs | p50 µs | p99 µs |\n|---|---:|---:|---:|---:|---:|\n");
    for (Figure f : figures) {
      out.append(
          String.format(
              "| %s | %d | %.0f | %.1f | %.1f | %.1f |%n",
              f.tool(), f.depth(), f.iops(), f.meanMicros(), f.p50(), f.p99()));
    }
    return out.toString();
  }
}
