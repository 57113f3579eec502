package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code upcie devbind list --sysfs-root FILE} lists the same functions, ids, classes and drivers
 * as {@code lspci -Dnnk} run against the same recording under {@code umockdev-run}: both read the
 * recording, one through the simulator, the other through umockdev's preloaded sysfs.
 */
class RecordingVersusLspciIT {
  /** The recordings, kept once in the simulator's test resources. */
  private static final Path RECORDINGS = Path.of("../upcie-sim/src/test/resources/sysfs");

  // 0000:00:05.0 Non-Volatile memory controller [0108]: Red Hat, Inc. QEMU NVM ... [1b36:0010]
  private static final Pattern FUNCTION =
      Pattern.compile("^(\\S+) .*?\\[([0-9a-f]{4})\\]: .*\\[([0-9a-f]{4}):([0-9a-f]{4})\\].*$");
  private static final Pattern DRIVER = Pattern.compile("^\\tKernel driver in use: (\\S+)$");

  @ParameterizedTest
  @ValueSource(
      strings = {
        "qemu-q35-iommu-nvme-edu",
        "qemu-q35-iommu-vfio",
        "microvm-virtio-host",
        "cloud-vm-pci-and-node"
      })
  void devbindListsWhatLspciListsFromTheSameRecording(String name) throws Exception {
    Path recording = RECORDINGS.resolve(name + ".umockdev").toAbsolutePath();
    List<String> lspci = lspci(recording);
    JsonNode listed =
        new ObjectMapper()
            .readTree(
                JarRunner.run(
                        List.of(),
                        JarRunner.JAR,
                        "devbind",
                        "list",
                        "--json",
                        "--sysfs-root",
                        recording.toString())
                    .out())
            .get("functions");

    List<String> ours = new ArrayList<>();
    for (JsonNode f : listed) {
      ours.add(
          String.join(
              " ",
              f.get("address").asText(),
              f.get("class").asText().substring(0, 4),
              f.get("vendor").asText() + ":" + f.get("device").asText(),
              f.get("driver").isNull() ? "-" : f.get("driver").asText()));
    }
    assertThat(ours).isNotEmpty().containsExactlyElementsOf(lspci);
  }

  /** {@code address class vendor:device driver} per function, as lspci prints them. */
  private static List<String> lspci(Path recording) throws Exception {
    requireTool("umockdev-run");
    requireTool("lspci");
    // umockdev records the driver links but not the drivers they point at, and lspci resolves the
    // link before it names the driver: make the drivers' directories in the testbed first.
    TreeSet<String> drivers = new TreeSet<>();
    for (String line : Files.readAllLines(recording)) {
      if (line.startsWith("L: driver=")) {
        drivers.add(line.substring(line.lastIndexOf('/') + 1));
      }
    }
    String script =
        "for d in "
            + String.join(" ", drivers)
            + "; do mkdir -p \"$UMOCKDEV_DIR/sys/bus/pci/drivers/$d\"; done; exec lspci -Dnnk";
    Path out = Files.createTempFile("lspci", ".txt");
    List<String> lines;
    try {
      // Output to a file, so a hung umockdev-run cannot block the test past its timeout.
      Process process =
          new ProcessBuilder("umockdev-run", "-d", recording.toString(), "--", "sh", "-c", script)
              .redirectOutput(out.toFile())
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError("umockdev-run ... lspci -Dnnk did not finish in 60 s");
      }
      assertThat(process.exitValue()).as("umockdev-run ... lspci -Dnnk exit status").isZero();
      lines = Files.readAllLines(out, StandardCharsets.UTF_8);
    } finally {
      Files.delete(out);
    }
    List<String> functions = new ArrayList<>();
    for (String line : lines) {
      Matcher function = FUNCTION.matcher(line);
      Matcher driver = DRIVER.matcher(line);
      if (function.matches()) {
        functions.add(
            function.group(1)
                + " "
                + function.group(2)
                + " "
                + function.group(3)
                + ":"
                + function.group(4)
                + " -");
      } else if (driver.matches()) {
        int last = functions.size() - 1;
        functions.set(last, functions.get(last).replaceFirst(" -$", " " + driver.group(1)));
      }
    }
    assertThat(functions.stream().filter(f -> !f.endsWith(" -")).count())
        .as("lspci names a driver for each recorded driver link")
        .isEqualTo(
            Files.readAllLines(recording).stream().filter(l -> l.startsWith("L: driver=")).count());
    return functions;
  }

  /** A missing tool skips the test, except in CI, where ci/setup installs it. */
  private static void requireTool(String tool) throws Exception {
    boolean found = new ProcessBuilder("sh", "-c", "command -v " + tool).start().waitFor() == 0;
    if (!found) {
      assertThat(Boolean.getBoolean("upcie.ci"))
          .as(tool + " is missing but upcie.ci=true (ci/setup installs umockdev and pciutils)")
          .isFalse();
      Assumptions.abort(tool + " is not installed (Debian: apt-get install umockdev pciutils)");
    }
  }
}
