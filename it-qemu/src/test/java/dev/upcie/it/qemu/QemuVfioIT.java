package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.hugepages.HugepagesOnThisMachineTest;
import dev.upcie.it.device.DevbindCommandGuestTest;
import dev.upcie.it.device.DevbindCycleTest;
import dev.upcie.it.device.DoctorGuestTest;
import dev.upcie.it.device.EduDeviceTest;
import dev.upcie.it.device.GuestRun;
import dev.upcie.it.device.IommuFaultTest;
import dev.upcie.it.device.KernelSysfsTest;
import dev.upcie.it.device.NvmeAdminQueueTest;
import dev.upcie.it.device.NvmeCommandsConformanceTest;
import dev.upcie.it.device.NvmeControllerRegistersTest;
import dev.upcie.it.device.NvmeDifferentialTest;
import dev.upcie.it.device.NvmeDriverTest;
import dev.upcie.it.device.NvmeDriverVersusNvmeCliTest;
import dev.upcie.it.device.NvmeLayout;
import dev.upcie.it.device.QemuNvmeConformanceTest;
import dev.upcie.it.device.VfioGroupsTest;
import dev.upcie.memory.HugepageRegionTest;
import dev.upcie.pci.PciFunction;
import dev.upcie.sim.SimMachine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real path with the IOMMU on: boots QEMU with an NVMe controller and an {@code edu} device
 * behind intel-iommu, binds both (and the ICH9 SATA and SMBus functions, which share a group) to
 * vfio-pci in the guest with the project's binder, and runs the device tests there on the vfio
 * backend, then core's hugepage and DMA memory tests on the guest's kernel. Before binding,
 * nvme-cli reads QEMU's Identify data through the kernel's nvme driver, as an oracle for the NVMe
 * model's. The tests that also run on the simulator run on the host in the ordinary test phase.
 */
class QemuVfioIT {
  static final String SERIAL = "upcie-it-0001";

  /**
   * Seconds of each perf run and of the ramp before it: briefly in the test suite, longer for
   * ci/bench's figures.
   */
  private static final int PERF_SECONDS =
      "full".equals(System.getProperty(GuestSuite.BENCH_PROPERTY)) ? 10 : 2;

  private static final int PERF_RAMP_SECONDS =
      "full".equals(System.getProperty(GuestSuite.BENCH_PROPERTY)) ? 10 : 3;

  /** QEMU's NVMe controller: -Dupcie.nvme.layout, the default unless set. */
  private static final NvmeLayout LAYOUT = NvmeLayout.requested();

  private static final GuestSuite SUITE =
      new GuestSuite("vfio")
          .modules("nvme", "vfio-pci", "vfio_iommu_type1")
          .bind("1b36:0010", "vfio-pci")
          .bind("1234:11e8", "vfio-pci")
          .bind("8086:2922", "vfio-pci")
          .bind("8086:2930", "vfio-pci")
          .before(NvmeCliIdentify.guestCommands(LAYOUT))
          .before(NvmePerfVersusFio.fioCommands(PERF_RAMP_SECONDS, PERF_SECONDS))
          .before(KillMidTest.guestCommands())
          .after(
              NvmePerfVersusFio.driverCommands(
                  GuestSuite.TOOLS_JAR, PERF_RAMP_SECONDS, PERF_SECONDS))
          .property(GuestRun.NVME_SERIAL, SERIAL)
          .property(GuestRun.NVME_LAYOUT, LAYOUT.name())
          .property(NvmeDriverVersusNvmeCliTest.DIRECTORY, "$RESULTS/" + NvmeCliIdentify.DIRECTORY)
          .property(
              NvmeDifferentialTest.COMMANDS,
              System.getProperty(NvmeDifferentialTest.COMMANDS, "2000"))
          .property(
              NvmeDifferentialTest.SEED,
              System.getProperty(NvmeDifferentialTest.SEED, NvmeDifferentialTest.DEFAULT_SEED))
          .tests(
              List.of(
                  NvmeControllerRegistersTest.class,
                  QemuNvmeConformanceTest.class,
                  NvmeCommandsConformanceTest.class,
                  NvmeDifferentialTest.class,
                  NvmeAdminQueueTest.class,
                  NvmeDriverTest.class,
                  NvmeDriverVersusNvmeCliTest.class,
                  EduDeviceTest.class,
                  KernelSysfsTest.class,
                  VfioGroupsTest.class,
                  DoctorGuestTest.class,
                  DevbindCycleTest.class,
                  DevbindCommandGuestTest.class,
                  IommuFaultTest.class,
                  HugepagesOnThisMachineTest.class,
                  HugepageRegionTest.class));

  private static Path results;
  private static QemuGuest.Run run;

  /** One boot serves every test here; if QEMU is missing they are all skipped (or fail in CI). */
  @BeforeAll
  static void bootTheGuestAndRunTheDeviceTests() throws Exception {
    QemuEnvironment environment = QemuEnvironment.require();
    QemuGuest guest =
        new QemuGuest(environment, Path.of("target/qemu/vfio"))
            .iommu(true)
            .kernelArguments("hugepagesz=2M", "hugepages=64")
            .timeout(Duration.ofSeconds(Long.getLong("upcie.qemu.timeout", 900)))
            .nvme(SERIAL, LAYOUT.mdts(), GuestSuite.namespaces(LAYOUT))
            .edu();
    results = guest.results();
    run = SUITE.runIn(guest);
  }

  @Test
  void theProjectsBinderMovedTheDevicesToVfioAndTheControllerBack() {
    assertThat(run.console())
        .as("the project's binder moved the NVMe function to vfio-pci; console:%n%s", run.tail(80))
        .containsPattern(
            "guest-bind: 0000:00:[0-9a-f]{2}\\.0 bound to vfio-pci \\(was .* on nvme\\)")
        .containsPattern(
            "guest-bind: 0000:00:1f\\.2 bound to vfio-pci \\(was .* with no driver\\)");
    assertThat(run.console())
        .as("once the tests released it, the function went back to the kernel's nvme driver")
        .containsPattern(
            "guest-bind: 0000:00:[0-9a-f]{2}\\.0 bound to nvme \\(was .* on vfio-pci\\)");
  }

  /** The interrupt round trip and DMA mapping benchmarks, briefly (fully under ci/bench). */
  @Test
  void aTestRunKilledMidTestLeftAJournalAndTheNextRunPutTheControllerBack() throws Exception {
    KillMidTest.assertRestored(results, run);
  }

  @Test
  void theGuestBenchmarksRan() throws Exception {
    SUITE
        .assertBenchmarksRan(results)
        .forEach(f -> System.out.println("QEMU guest benchmark, " + f));
  }

  /**
   * fio through the kernel's driver and {@code upcie nvme perf} through ours measured the same
   * controller at queue depths 1 and 32; the table goes to the run's output and, for ci/bench, to
   * {@code perf/comparison.md} in the results.
   */
  @Test
  void ourDriverAndTheKernelsWereMeasuredOnTheSameController() throws Exception {
    Path directory = results.resolve(NvmePerfVersusFio.DIRECTORY);
    Path error = directory.resolve(NvmePerfVersusFio.ERROR_FILE);
    assertThat(error)
        .as(
            "the guest could not measure: %s; console:%n%s",
            Files.exists(error) ? Files.readString(error).strip() : "", run.tail(60))
        .doesNotExist();
    List<NvmePerfVersusFio.Figure> figures = NvmePerfVersusFio.figures(results);
    assertThat(figures)
        .hasSize(2 * NvmePerfVersusFio.DEPTHS.length)
        .allSatisfy(f -> {
          assertThat(f.iops()).as("%s at depth %d: IOPS", f.tool(), f.depth()).isPositive();
          assertThat(f.p99()).as("%s p99 >= p50", f.tool()).isGreaterThanOrEqualTo(f.p50());
        });
    String table = NvmePerfVersusFio.table(figures);
    Files.writeString(directory.resolve("comparison.md"), table);
    System.out.print("QEMU guest, 4 KiB random reads (" + PERF_SECONDS + " s each):\n" + table);
  }

  @Test
  void everyDeviceTestRanAndPassedInTheGuest() throws Exception {
    SUITE.assertAllRanAndPassed(results, run);
    assertThat(run.status()).as("guest script status; console:%n%s", run.tail(80)).isZero();
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

  /**
   * The listing names what the guest's kernel made for each function before anything is rebound:
   * the NVMe controller's character device and one disk per namespace (the heads of Debian's native
   * multipath, not its hidden paths); a function with no driver (the guest loads no e1000e) has
   * none; nothing is in use.
   */
  @Test
  void theListingNamesTheKernelsNodes() throws Exception {
    JsonNode functions =
        new ObjectMapper().readTree(results.resolve("devbind.json").toFile()).get("functions");
    JsonNode nvme = null;
    for (JsonNode f : functions) {
      String id = f.get("vendor").asText() + ":" + f.get("device").asText();
      nvme = id.equals("1b36:0010") ? f : nvme;
      assertThat(f.get("in_use").isNull()).as("%s in use", f.get("address")).isTrue();
      if (f.get("driver").isNull()) {
        assertThat(nodes(f)).as("nodes of %s, which has no driver", f.get("address")).isEmpty();
      }
    }
    List<String> expected = new ArrayList<>(List.of("nvme_controller /dev/nvme0"));
    for (int i = 1; i <= LAYOUT.namespaces().size(); i++) {
      expected.add("block /dev/nvme0n" + i);
    }
    assertThat(nodes(nvme)).containsExactlyElementsOf(expected);
  }

  private static List<String> nodes(JsonNode function) {
    List<String> nodes = new ArrayList<>();
    function
        .get("nodes")
        .forEach(n -> nodes.add(n.get("kind").asText() + " " + n.get("name").asText()));
    return nodes;
  }

  /**
   * An oracle the model's Identify data owes nothing to: nvme-cli, reading QEMU's controller
   * through the kernel's nvme driver before the binder took it, printed Identify Controller and
   * both namespaces' Identify Namespace; every field it printed must be what it would print for the
   * model's bytes, built with the options the guest's controller has. Skipped only where nvme-cli
   * is not installed and the run is not CI's.
   */
  @Test
  void nvmeCliReadsTheSameIdentifyDataAsTheModelBuilds() throws Exception {
    boolean ci = Boolean.getBoolean(QemuEnvironment.REQUIRED_PROPERTY);
    Assumptions.assumeTrue(
        ci || NvmeCliIdentify.installed(),
        "nvme-cli is not installed (Debian package nvme-cli; ci/setup installs it)");
    Path output = results.resolve(NvmeCliIdentify.DIRECTORY);
    Path error = output.resolve(NvmeCliIdentify.ERROR_FILE);
    assertThat(error)
        .as(
            "the guest could not run nvme-cli: %s",
            Files.exists(error) ? Files.readString(error).strip() : "")
        .doesNotExist();
    for (NvmeCliIdentify.Output o : NvmeCliIdentify.outputs(LAYOUT)) {
      assertThat(output.resolve(o.file()))
          .as(
              "nvme %s %s -o json, saved by the guest; console:%n%s",
              o.structure().command(), o.device(), run.tail(60))
          .exists();
    }
    assertThat(NvmeCliIdentify.differences(output, LAYOUT, SERIAL))
        .as("fields nvme-cli prints differently for QEMU's controller and the model (%s)", output)
        .isEmpty();
  }
}
