package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.hugepages.HugepagesOnThisMachineTest;
import dev.upcie.it.device.NvmeControllerRegistersTest;
import dev.upcie.it.device.QemuNvmeConformanceTest;
import dev.upcie.memory.HugepageRegionTest;
import dev.upcie.pci.PciFunction;
import dev.upcie.sim.SimMachine;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/**
 * The real path end to end: boots QEMU with an NVMe controller and an {@code edu} device behind
 * intel-iommu, binds the controller to vfio-pci in the guest with the project's binding code, and
 * runs the device tests there with the JUnit console launcher on the vfio backend, then core's
 * hugepage and DMA memory tests on the guest's kernel. The same test classes run on the host in the
 * ordinary test phase (the device tests against the simulator).
 */
class QemuVfioIT {
  private static final List<Class<?>> GUEST_TESTS =
      List.of(
          NvmeControllerRegistersTest.class,
          QemuNvmeConformanceTest.class,
          HugepagesOnThisMachineTest.class,
          HugepageRegionTest.class);
  private static final Path TOOLS_JAR =
      Path.of("../upcie-tools/target/upcie.jar").toAbsolutePath().normalize();

  private static Path results;
  private static QemuGuest.Run run;

  /** One boot serves every test here; if QEMU is missing they are all skipped (or fail in CI). */
  @BeforeAll
  static void bootTheGuestAndRunTheDeviceTests() throws Exception {
    QemuEnvironment environment = QemuEnvironment.require();
    assertThat(TOOLS_JAR).as("the upcie CLI jar; build from the root: ./mvnw verify").exists();
    QemuGuest guest =
        new QemuGuest(environment, Path.of("target/qemu/vfio"))
            .iommu(true)
            .timeout(Duration.ofSeconds(Long.getLong("upcie.qemu.timeout", 600)))
            .nvme("upcie-it-0001", 64L << 20)
            .edu();
    results = guest.results();
    run = guest.run(script(results, results.resolve("reports")));
    System.out.printf(
        "QEMU guest run (boot, bind, device and memory tests, power off): %.1f s%n",
        run.wallTime().toMillis() / 1000.0);
  }

  @Test
  void theProjectsBinderMovedTheControllerToVfioAndBack() {
    assertThat(run.status()).as("guest script status; console:%n%s", run.tail(80)).isZero();
    assertThat(run.console())
        .as("the project's binder moved the NVMe function to vfio-pci")
        .containsPattern(
            "guest-bind: 0000:00:[0-9a-f]{2}\\.0 bound to vfio-pci \\(was .* on nvme\\)");
    assertThat(run.console())
        .as("once the tests released it, the function went back to the kernel's nvme driver")
        .containsPattern(
            "guest-bind: 0000:00:[0-9a-f]{2}\\.0 bound to nvme \\(was .* on vfio-pci\\)");
  }

  @Test
  void everyDeviceTestRanAndPassedInTheGuest() throws Exception {
    Element suite = testsuite(results.resolve("reports/TEST-junit-jupiter.xml"));
    assertThat(Integer.parseInt(suite.getAttribute("tests")))
        .as("tests run in the guest (a count of zero is a failure)")
        .isEqualTo(testMethodCount())
        .isPositive();
    assertThat(suite.getAttribute("failures"))
        .as("failures; console:%n%s", run.tail(80))
        .isEqualTo("0");
    assertThat(suite.getAttribute("errors"))
        .as("errors; console:%n%s", run.tail(80))
        .isEqualTo("0");
    assertThat(suite.getAttribute("skipped")).as("skipped").isEqualTo("0");
  }

  /**
   * The simulator's q35 preset is this guest: the same functions, ids, classes, revisions, IOMMU
   * groups and boot drivers, as {@code upcie devbind list --json} reports them in the guest before
   * anything is rebound.
   */
  @Test
  void theSimulatedMachineIsTheGuest() throws Exception {
    Path listing = results.resolve("devbind.json");
    assertThat(listing).as("written by the guest; console:%n%s", run.tail(40)).exists();
    List<String> guest = new ArrayList<>();
    for (JsonNode f : new ObjectMapper().readTree(listing.toFile()).get("functions")) {
      guest.add(
          String.join(
              " ",
              f.get("address").asText(),
              f.get("vendor").asText() + ":" + f.get("device").asText(),
              f.get("subsystem_vendor").asText() + ":" + f.get("subsystem_device").asText(),
              f.get("class").asText(),
              "rev" + f.get("revision").asInt(),
              "group" + f.get("iommu_group").asInt(),
              f.get("driver").isNull() ? "-" : f.get("driver").asText()));
    }
    List<String> simulated = new ArrayList<>();
    for (PciFunction f : SimMachine.qemuQ35().bus().functions()) {
      simulated.add(
          String.join(
              " ",
              f.address().toString(),
              f.id().toString(),
              f.subsystem().toString(),
              String.format("%06x", f.classCode().value()),
              "rev" + f.revision(),
              "group" + f.iommuGroup().getAsInt(),
              f.driver().orElse("-")));
    }
    assertThat(simulated).containsExactlyElementsOf(guest);
  }

  private static String script(Path results, Path reports) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String selectors =
        GUEST_TESTS.stream()
            .map(c -> "--select-class " + c.getName())
            .collect(Collectors.joining(" "));
    return """
    set -eu
    export PATH=/usr/sbin:/usr/bin:/sbin:/bin
    mkdir -p /run/tmp
    echo "upcie-guest: kernel $(uname -r), $(nproc) CPUs"
    modprobe nvme
    modprobe vfio-pci
    modprobe vfio_iommu_type1
    JAVA='%1$s'
    JOPTS='-XX:-UsePerfData -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.io.tmpdir=/run/tmp --sun-misc-unsafe-memory-access=allow'
    CP='%2$s'
    "$JAVA" $JOPTS -jar '%5$s' devbind list --json > '%6$s/devbind.json'
    "$JAVA" $JOPTS --enable-native-access=ALL-UNNAMED -cp "$CP" \\
      dev.upcie.it.guest.GuestBind 1b36:0010 vfio-pci
    ls -l /dev/vfio
    "$JAVA" $JOPTS -jar '%5$s' devbind list
    "$JAVA" $JOPTS --enable-native-access=ALL-UNNAMED \\
      -Dupcie.backend=vfio -Dupcie.it.expectedBackend=vfio -cp "$CP" \\
      org.junit.platform.console.ConsoleLauncher execute %3$s \\
      --reports-dir '%4$s' --details=tree --disable-banner --disable-ansi-colors \\
      --fail-if-no-tests
    "$JAVA" $JOPTS --enable-native-access=ALL-UNNAMED -cp "$CP" \\
      dev.upcie.it.guest.GuestBind 1b36:0010 nvme
    """
        .formatted(java, classpath, selectors, reports, TOOLS_JAR, results);
  }

  private static int testMethodCount() {
    int count = 0;
    for (Class<?> c : GUEST_TESTS) {
      for (Method m : c.getDeclaredMethods()) {
        if (m.isAnnotationPresent(Test.class)) {
          count++;
        }
      }
    }
    return count;
  }

  private static Element testsuite(Path xml) throws Exception {
    assertThat(xml).as("JUnit XML report written by the guest").exists();
    return DocumentBuilderFactory.newInstance()
        .newDocumentBuilder()
        .parse(xml.toFile())
        .getDocumentElement();
  }
}
