package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.it.device.NvmeControllerRegistersTest;
import dev.upcie.it.device.QemuNvmeConformanceTest;
import java.lang.reflect.Method;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Element;

/**
 * The real path end to end: boots QEMU with an NVMe controller behind intel-iommu, binds it to
 * vfio-pci in the guest with the project's binding code, and runs the device tests there with the
 * JUnit console launcher on the vfio backend. The same test classes run on the host against the
 * simulator in the ordinary test phase.
 */
class QemuVfioIT {
  private static final List<Class<?>> GUEST_TESTS =
      List.of(NvmeControllerRegistersTest.class, QemuNvmeConformanceTest.class);

  @Test
  void deviceTestsPassInTheGuestOnQemusNvmeThroughVfio() throws Exception {
    QemuEnvironment environment = QemuEnvironment.require();
    QemuGuest guest =
        new QemuGuest(environment, Path.of("target/qemu/vfio"))
            .iommu(true)
            .timeout(Duration.ofSeconds(Long.getLong("upcie.qemu.timeout", 600)))
            .nvme("upcie-it-0001", 64L << 20);
    Path reports = guest.results().resolve("reports");

    QemuGuest.Run run = guest.run(script(reports));
    System.out.printf(
        "QEMU guest run (boot, bind, device tests, power off): %.1f s%n",
        run.wallTime().toMillis() / 1000.0);

    assertThat(run.status()).as("guest script status; console:%n%s", run.tail(80)).isZero();
    assertThat(run.console())
        .as("the project's binder moved the NVMe function to vfio-pci")
        .containsPattern(
            "guest-bind: 0000:00:[0-9a-f]{2}\\.0 bound to vfio-pci \\(was .* on nvme\\)");
    assertThat(run.console())
        .as("once the tests released it, the function went back to the kernel's nvme driver")
        .containsPattern(
            "guest-bind: 0000:00:[0-9a-f]{2}\\.0 bound to nvme \\(was .* on vfio-pci\\)");
    Element suite = testsuite(reports.resolve("TEST-junit-jupiter.xml"));
    int expected = testMethodCount();
    assertThat(Integer.parseInt(suite.getAttribute("tests")))
        .as("tests run in the guest (a count of zero is a failure)")
        .isEqualTo(expected)
        .isPositive();
    assertThat(suite.getAttribute("failures"))
        .as("failures; console:%n%s", run.tail(80))
        .isEqualTo("0");
    assertThat(suite.getAttribute("errors"))
        .as("errors; console:%n%s", run.tail(80))
        .isEqualTo("0");
    assertThat(suite.getAttribute("skipped")).as("skipped").isEqualTo("0");
  }

  private static String script(Path reports) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    String selectors =
        GUEST_TESTS.stream()
            .map(c -> "--select-class " + c.getName())
            .collect(Collectors.joining(" "));
    String jar = Path.of("../upcie-tools/target/upcie.jar").toAbsolutePath().normalize().toString();
    return """
    set -eu
    export PATH=/usr/sbin:/usr/bin:/sbin:/bin
    mkdir -p /run/tmp
    echo "upcie-guest: kernel $(uname -r), $(nproc) CPUs"
    modprobe nvme
    modprobe vfio-pci
    modprobe vfio_iommu_type1
    JAVA='%1$s'
    JOPTS='-XX:-UsePerfData -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Djava.io.tmpdir=/run/tmp --enable-native-access=ALL-UNNAMED'
    CP='%2$s'
    "$JAVA" $JOPTS -cp "$CP" dev.upcie.it.guest.GuestBind 1b36:0010 vfio-pci
    ls -l /dev/vfio
    if [ -f '%5$s' ]; then "$JAVA" $JOPTS -jar '%5$s' devbind list; fi
    "$JAVA" $JOPTS -Dupcie.backend=vfio -Dupcie.it.expectedBackend=vfio -cp "$CP" \\
      org.junit.platform.console.ConsoleLauncher execute %3$s \\
      --reports-dir '%4$s' --details=tree --disable-banner --disable-ansi-colors \\
      --fail-if-no-tests
    "$JAVA" $JOPTS -cp "$CP" dev.upcie.it.guest.GuestBind 1b36:0010 nvme
    """
        .formatted(java, classpath, selectors, reports, jar);
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
