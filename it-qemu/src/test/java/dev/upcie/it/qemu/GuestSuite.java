package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.it.device.GuestRun;
import dev.upcie.it.device.NvmeLayout;
import dev.upcie.it.guest.GuestBind;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The script a guest runs: load modules, record the functions, bind devices with the project's
 * binder, run test classes with the JUnit console launcher on one backend, bind the NVMe controller
 * back; and the checks of its report on the host.
 *
 * <p>Every test in the guest has a default timeout and runs in a thread of its own, so one that
 * hangs (a device that never answers) fails alone instead of losing the guest's whole report.
 */
final class GuestSuite {
  static final Path TOOLS_JAR =
      Path.of("../upcie-tools/target/upcie.jar").toAbsolutePath().normalize();
  static final Path BENCHMARKS_JAR =
      Path.of("../upcie-bench/target/benchmarks.jar").toAbsolutePath().normalize();
  static final String TEST_TIMEOUT = "120 s";
  private static final String GUEST_BIND = GuestBind.class.getName();

  /**
   * System property: {@code full} runs the guest benchmarks with their own warm-up and measurement
   * (ci/bench, for the figures); otherwise each runs once, briefly, so none rots.
   */
  static final String BENCH_PROPERTY = "upcie.bench";

  private final String backend;
  private final List<String> modules = new ArrayList<>();
  private final Map<String, String> bindings = new LinkedHashMap<>();
  private final List<Class<?>> tests = new ArrayList<>();
  private final Map<String, String> properties = new LinkedHashMap<>();
  private final List<String> before = new ArrayList<>();
  private final List<String> after = new ArrayList<>();

  /** A suite that runs its tests on {@code backend}. */
  GuestSuite(String backend) {
    this.backend = backend;
  }

  /** Loads these kernel modules first. */
  GuestSuite modules(String... names) {
    modules.addAll(List.of(names));
    return this;
  }

  /** Binds every function with {@code id} to {@code driver} before the tests. */
  GuestSuite bind(String id, String driver) {
    bindings.put(id, driver);
    return this;
  }

  /** Runs these test classes. */
  GuestSuite tests(List<Class<?>> classes) {
    tests.addAll(classes);
    return this;
  }

  /** A system property for the tests. */
  GuestSuite property(String name, String value) {
    properties.put(name, value);
    return this;
  }

  /**
   * A shell command after the modules are loaded and before any device is rebound, while the
   * kernel's own drivers still hold them. It may use {@code $RESULTS}, the results directory.
   */
  GuestSuite before(String command) {
    before.add(command);
    return this;
  }

  /** A shell command after the tests (before the NVMe controller goes back to the kernel). */
  GuestSuite after(String command) {
    after.add(command);
    return this;
  }

  /** QEMU's namespaces for {@code layout}. */
  static List<QemuGuest.NvmeNamespace> namespaces(NvmeLayout layout) {
    return layout.namespaces().stream()
        .map(ns -> new QemuGuest.NvmeNamespace(ns.nsid(), ns.bytes(), ns.blockSize()))
        .toList();
  }

  /**
   * Runs this suite in {@code guest} (booted here, powered off on return) and prints how long the
   * whole run took.
   */
  QemuGuest.Run runIn(QemuGuest guest) throws IOException, InterruptedException {
    assertThat(TOOLS_JAR).as("the upcie CLI jar; build from the root: ./mvnw verify").exists();
    QemuGuest.Run run = guest.run(script(guest.results()));
    assertThat(run.console())
        .as("the guest runs the kernel it was given; console:%n%s", run.tail(40))
        .contains("upcie-guest: kernel " + guest.kernelRelease() + ",");
    System.out.printf(
        "QEMU guest run, %s (boot, bind, %d tests, power off): %.1f s%n",
        backend, testCount(), run.wallTime().toMillis() / 1000.0);
    return run;
  }

  /** The guest's shell script; JUnit reports go to {@code results}/reports. */
  String script(Path results) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    StringBuilder script = new StringBuilder();
    script.append(
        """
        set -eu
        export PATH=/usr/sbin:/usr/bin:/sbin:/bin
        mkdir -p /run/tmp
        echo "upcie-guest: kernel $(uname -r), $(nproc) CPUs, cmdline $(cat /proc/cmdline)"
        JAVA='%s'
        # jvm LABEL ARGS...: runs java and says how long it took, since JVMs dominate a guest run.
        jvm() {
          label=$1
          shift
          started=$(date +%%s%%N)
          rc=0
          "$JAVA" "$@" || rc=$?
          echo "upcie-guest: $label took $(( ($(date +%%s%%N) - started) / 1000000 )) ms (exit $rc)" >&2
          return $rc
        }
        JOPTS='-XX:-UsePerfData -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.io.tmpdir=/run/tmp --sun-misc-unsafe-memory-access=allow'
        CP='%s'
        RESULTS='%s'
        """
            .formatted(java, classpath, results));
    for (String module : modules) {
      script.append("modprobe ").append(module).append('\n');
    }
    before.forEach(command -> script.append(command).append('\n'));
    script.append(
        "jvm 'devbind list --json' $JOPTS -jar '%s' devbind list --json > '%s/devbind.json'\n"
            .formatted(TOOLS_JAR, results));
    // The peers devbind list is held to, on the same kernel at the same moment.
    script.append(
        """
        lspci -Dk > '%1$s/peer-lspci.txt' 2>/dev/null || true
        driverctl list-devices > '%1$s/peer-driverctl.txt' 2>/dev/null || true
        dpdk-devbind.py --status > '%1$s/peer-dpdk-devbind.txt' 2>/dev/null || true
        """
            .formatted(results));
    if (!bindings.isEmpty()) {
      script.append(
          "jvm bind $JOPTS --enable-native-access=ALL-UNNAMED -cp \"$CP\" %s %s\n"
              .formatted(
                  GUEST_BIND,
                  bindings.entrySet().stream()
                      .map(e -> e.getKey() + " " + e.getValue())
                      .collect(Collectors.joining(" "))));
    }
    script.append("ls -l /dev/vfio /dev/uio* 2>/dev/null || true\n");
    StringBuilder props = new StringBuilder();
    props.append(" -Dupcie.backend=").append(backend);
    props.append(" -D").append(GuestRun.EXPECTED_BACKEND).append('=').append(backend);
    properties.forEach((k, v) -> props.append(" -D").append(k).append('=').append(v));
    script.append(
        """
        status=0
        jvm tests $JOPTS --enable-native-access=ALL-UNNAMED%s -cp "$CP" \\
          org.junit.platform.console.ConsoleLauncher execute %s \\
          --config 'junit.jupiter.execution.timeout.default=%s' \\
          --config junit.jupiter.execution.timeout.thread.mode.default=SEPARATE_THREAD \\
          --reports-dir '%s/reports' --details=tree --disable-banner --disable-ansi-colors \\
          --fail-if-no-tests || status=$?
        """
            .formatted(
                props,
                tests.stream()
                    .map(c -> "--select-class " + c.getName())
                    .collect(Collectors.joining(" ")),
                TEST_TIMEOUT,
                results));
    after.forEach(command -> script.append(command).append('\n'));
    // The brief run stays in the launcher's JVM (-f 0): two fewer JVM starts, 20 s under TCG.
    String jmh =
        "full".equals(System.getProperty(BENCH_PROPERTY))
            ? " -f 1"
            : " -f 0 -wi 1 -i 1 -w 1s -r 1s";
    script.append(
        """
        jvm benchmarks -XX:-UsePerfData -XX:+UseSerialGC -Djava.io.tmpdir=/run/tmp \\
          --enable-native-access=ALL-UNNAMED -Dupcie.backend=%s \\
          -jar '%s' 'dev.upcie.bench.guest'%s -foe true \\
          -rf csv -rff '%s/jmh.csv' || status=$((status == 0 ? 1 : status))
        """
            .formatted(backend, BENCHMARKS_JAR, jmh, results));
    script.append(
        "jvm 'give NVMe back' $JOPTS --enable-native-access=ALL-UNNAMED -cp \"$CP\" %s 1b36:0010 nvme\n"
            .formatted(GUEST_BIND));
    script.append("exit $status\n");
    return script.toString();
  }

  /**
   * The number of tests the suite's classes run in the guest: each test method, each parameterized
   * one once per {@code @CsvSource} row, and other parameterized ones once (their sources name
   * machines, and in a guest they run on the one machine there is).
   */
  int testCount() {
    int count = 0;
    for (Class<?> c : tests) {
      for (Method m : c.getDeclaredMethods()) {
        if (m.isAnnotationPresent(Test.class)) {
          count++;
        } else if (m.isAnnotationPresent(ParameterizedTest.class)) {
          CsvSource rows = m.getAnnotation(CsvSource.class);
          count += rows == null ? 1 : rows.value().length;
        }
      }
    }
    return count;
  }

  /**
   * Asserts that the guest benchmarks ran and measured something; returns their figures as lines
   * such as {@code vfio roundTrip: 120.5 us/op (p0.50 98.3, p0.99 410.0)}, for the run's output.
   */
  List<String> assertBenchmarksRan(Path results) throws Exception {
    Path csv = results.resolve("jmh.csv");
    assertThat(csv).as("JMH results written by the guest").exists();
    Map<String, String> primary = new LinkedHashMap<>();
    Map<String, List<String>> percentiles = new LinkedHashMap<>();
    List<String> lines = Files.readAllLines(csv);
    assertThat(lines)
        .as("JMH results in %s: a header and a row per benchmark", csv)
        .hasSizeGreaterThan(1);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.replace("\"", "").split(",");
      int colon = f[0].indexOf(':');
      String name = colon < 0 ? f[0] : f[0].substring(0, colon);
      String benchmark = name.substring(name.lastIndexOf('.') + 1);
      double score = Double.parseDouble(f[4]);
      if (colon < 0) {
        assertThat(score).as("score of %s", f[0]).isPositive();
        primary.put(benchmark, String.format("%.1f %s", score, f[6]));
      } else {
        String metric = f[0].substring(colon + 1);
        if (metric.equals("p0.50") || metric.equals("p0.99")) {
          percentiles
              .computeIfAbsent(benchmark, k -> new ArrayList<>())
              .add(String.format("%s %.1f", metric, score));
        }
      }
    }
    assertThat(primary.keySet()).as("guest benchmarks").hasSize(2);
    List<String> figures = new ArrayList<>();
    primary.forEach((benchmark, score) ->
        figures.add(
            backend
                + " "
                + benchmark
                + ": "
                + score
                + (percentiles.containsKey(benchmark)
                    ? " (" + String.join(", ", percentiles.get(benchmark)) + ")"
                    : "")));
    return figures;
  }

  /** Asserts that the guest ran every test, and every one passed. */
  void assertAllRanAndPassed(Path results, QemuGuest.Run run) throws Exception {
    Path xml = results.resolve("reports/TEST-junit-jupiter.xml");
    assertThat(xml)
        .as("JUnit XML report written by the guest; console:%n%s", run.tail(60))
        .exists();
    Element suite =
        DocumentBuilderFactory.newInstance()
            .newDocumentBuilder()
            .parse(xml.toFile())
            .getDocumentElement();
    List<String> failed = new ArrayList<>();
    NodeList cases = suite.getElementsByTagName("testcase");
    for (int i = 0; i < cases.getLength(); i++) {
      Element testcase = (Element) cases.item(i);
      for (String kind : List.of("failure", "error", "skipped")) {
        NodeList problems = testcase.getElementsByTagName(kind);
        if (problems.getLength() > 0) {
          Element problem = (Element) problems.item(0);
          failed.add(
              kind
                  + ": "
                  + testcase.getAttribute("classname")
                  + "."
                  + testcase.getAttribute("name")
                  + ": "
                  + problem.getAttribute("message"));
        }
      }
    }
    assertThat(failed).as("tests that failed, errored or were skipped in the guest").isEmpty();
    assertThat(Integer.parseInt(suite.getAttribute("tests")))
        .as("tests run in the guest (a count of zero is a failure)")
        .isEqualTo(testCount())
        .isPositive();
  }
}
