package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.it.device.DevbindCommandGuestTest;
import dev.upcie.it.device.DevbindCycleTest;
import dev.upcie.it.device.DoctorGuestTest;
import dev.upcie.it.device.EduDeviceTest;
import dev.upcie.it.device.GuestRun;
import dev.upcie.it.device.KernelSysfsTest;
import dev.upcie.it.device.NvmeAdminQueueTest;
import dev.upcie.it.device.NvmeCommandsConformanceTest;
import dev.upcie.it.device.NvmeControllerRegistersTest;
import dev.upcie.it.device.NvmeDriverTest;
import dev.upcie.it.device.NvmeDriverVersusNvmeCliTest;
import dev.upcie.it.device.NvmeLayout;
import dev.upcie.it.device.QemuNvmeConformanceTest;
import dev.upcie.it.device.UioDmaMaskTest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real path with no IOMMU: boots QEMU with the same NVMe controller and {@code edu} device but
 * no intel-iommu, binds both to {@code uio_pci_generic} in the guest, and runs the same device
 * tests there on the uio backend: physical DMA addresses from hugepages, INTx through {@code
 * /dev/uioN}.
 *
 * <p>{@code edu} reaches only the first 256 MiB of physical memory, so the guest has two NUMA
 * nodes, node 0 covering exactly that, and hugepages reserved at boot on both: node 0's serve the
 * DMA tests, node 1's show the refusal of memory above the mask.
 */
class QemuUioIT {
  static final String SERIAL = "upcie-it-0002";

  /** QEMU's NVMe controller: -Dupcie.nvme.layout, the default unless set. */
  private static final NvmeLayout LAYOUT = NvmeLayout.requested();

  private static final GuestSuite SUITE =
      new GuestSuite("uio")
          .modules("nvme", "uio_pci_generic")
          .bind("1b36:0010", "uio_pci_generic")
          .bind("1234:11e8", "uio_pci_generic")
          .before(NvmeCliIdentify.guestCommands(LAYOUT))
          .property(GuestRun.NVME_SERIAL, SERIAL)
          .property(GuestRun.NVME_LAYOUT, LAYOUT.name())
          .property(NvmeDriverVersusNvmeCliTest.DIRECTORY, "$RESULTS/" + NvmeCliIdentify.DIRECTORY)
          .tests(
              List.of(
                  NvmeControllerRegistersTest.class,
                  QemuNvmeConformanceTest.class,
                  NvmeCommandsConformanceTest.class,
                  NvmeAdminQueueTest.class,
                  NvmeDriverTest.class,
                  NvmeDriverVersusNvmeCliTest.class,
                  EduDeviceTest.class,
                  KernelSysfsTest.class,
                  DoctorGuestTest.class,
                  DevbindCycleTest.class,
                  DevbindCommandGuestTest.class,
                  UioDmaMaskTest.class));

  private static Path results;
  private static QemuGuest.Run run;

  /** One boot serves every test here; if QEMU is missing they are all skipped (or fail in CI). */
  @BeforeAll
  static void bootTheGuestAndRunTheDeviceTests() throws Exception {
    QemuEnvironment environment = QemuEnvironment.require();
    QemuGuest guest =
        new QemuGuest(environment, Path.of("target/qemu/uio"))
            .iommu(false)
            .numaNodes(256, 1792)
            .kernelArguments("hugepagesz=2M", "hugepages=0:32,1:16")
            .timeout(Duration.ofSeconds(Long.getLong("upcie.qemu.timeout", 900)))
            .nvme(SERIAL, LAYOUT.mdts(), GuestSuite.namespaces(LAYOUT))
            .edu();
    results = guest.results();
    run = SUITE.runIn(guest);
  }

  @Test
  void theProjectsBinderMovedTheDevicesToUioAndTheControllerBack() {
    assertThat(run.console())
        .as("console:%n%s", run.tail(80))
        .containsPattern(
            "guest-bind: 0000:00:[0-9a-f]{2}\\.0 bound to uio_pci_generic \\(was .* on nvme\\)")
        .containsPattern(
            "guest-bind: 0000:00:[0-9a-f]{2}\\.0 bound to nvme \\(was .* on uio_pci_generic\\)");
  }

  /** The interrupt round trip and DMA mapping benchmarks, briefly (fully under ci/bench). */
  @Test
  void theGuestBenchmarksRan() throws Exception {
    SUITE
        .assertBenchmarksRan(results)
        .forEach(f -> System.out.println("QEMU guest benchmark, " + f));
  }

  @Test
  void everyDeviceTestRanAndPassedInTheGuest() throws Exception {
    SUITE.assertAllRanAndPassed(results, run);
    assertThat(run.status()).as("guest script status; console:%n%s", run.tail(80)).isZero();
  }

  @Test
  void theGuestHadNoIommuAndHugepagesOnBothNodes() {
    assertThat(run.console())
        .as("console:%n%s", run.tail(80))
        .contains("intel_iommu=off")
        .contains("hugepages=0:32,1:16");
  }
}
