package dev.upcie.junit;

import static dev.upcie.junit.Kit.kit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.testkit.engine.EventConditions.displayName;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.skippedWithReason;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.nvme.NvmeModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which backend a test runs on, and what happens when it cannot: the run's setting overrides the
 * annotation, a backend that cannot serve skips with its reason, and {@code @OnEveryBackend} runs a
 * test once per backend.
 */
class BackendsTest {
  static final List<String> BACKENDS = new CopyOnWriteArrayList<>();

  @BeforeEach
  void forget() {
    BACKENDS.clear();
  }

  @Test
  void theSimulatorIsTheDefaultAndTheReportSaysWhatChoseIt() {
    var events = kit().run(Plain.class).testEvents();

    events.assertStatistics(s -> s.succeeded(1));
    assertThat(BACKENDS).containsExactly("sim");
    assertThat(events.reportingEntryPublished().stream())
        .singleElement()
        .satisfies(e ->
            assertThat(
                    e.getPayload(org.junit.platform.engine.reporting.ReportEntry.class)
                        .orElseThrow()
                        .getKeyValuePairs())
                .containsEntry(
                    "upcie.device",
                    "sim (chosen by the default) 0000:00:05.0 1b36:0010 NVMe controller"));
  }

  @Test
  void theRunsSettingOverridesTheAnnotation(@TempDir Path sysfs) throws Exception {
    Files.createDirectories(sysfs.resolve("bus/pci/devices"));

    kit().backend("sim").run(AsksForVfio.class).testEvents().assertStatistics(s -> s.succeeded(1));

    assertThat(BACKENDS).containsExactly("sim");
  }

  @Test
  void aBackendThatCannotServeSkipsTheTestWithItsReason(@TempDir Path sysfs) throws Exception {
    Files.createDirectories(sysfs.resolve("bus/pci/devices"));

    kit()
        .backend("vfio")
        .sysfs(sysfs)
        .run(Plain.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            event(
                test("readsVersion"),
                skippedWithReason(
                    "@PciDevice parameter [bar0] of Plain.readsVersion: cannot open class"
                        + " 0x010802 on the vfio backend: no PCI function matches class 0x010802"
                        + " in "
                        + sysfs
                        + "/bus/pci/devices (it is empty)")));
  }

  @Test
  void theRealBackendsNeverTakeAFunctionOnAHostDriver(@TempDir Path sysfs) {
    SimMachine.qemuQ35().sysfs().copyTo(sysfs);

    kit()
        .backend("vfio")
        .sysfs(sysfs)
        .run(Plain.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            skippedWithReason(r ->
                r.contains(
                    "no PCI function matching class 0x010802 is bound to vfio-pci (candidates:"
                        + " 0000:00:05.0 on nvme); bind the one meant for this use to vfio-pci"
                        + " first")));
  }

  @Test
  void autoNeverFallsBackSilently(@TempDir Path sysfs) {
    SimMachine machine = SimMachine.qemuQ35();
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:05.0"), "vfio-pci");
    machine.sysfs().copyTo(sysfs);

    // A function is bound to vfio-pci, but this tree has no /dev/vfio: auto says so, and does
    // not test the simulator instead.
    kit()
        .backend("auto")
        .sysfs(sysfs)
        .run(Plain.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            skippedWithReason(r ->
                r.contains(
                    "on the vfio backend, which auto chose because a matching function is bound"
                        + " to vfio-pci: ")));
  }

  @Test
  void theModelIsOnlyOnTheSimulatorAndElsewhereTheTestIsSkipped(@TempDir Path sysfs)
      throws Exception {
    Files.createDirectories(sysfs.resolve("bus/pci/devices"));

    kit()
        .backend("auto")
        .sysfs(sysfs)
        .run(WantsModel.class)
        .testEvents()
        .assertStatistics(s -> s.succeeded(1));

    SimMachine.qemuQ35Vfio().sysfs().copyTo(sysfs);
    kit()
        .backend("vfio")
        .sysfs(sysfs)
        .run(WantsModel.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(1, skippedWithReason(r -> r.contains("/dev/vfio")));
  }

  @Test
  void anUnknownBackendNamesTheSettingAndTheChoices() {
    kit()
        .backend("fpga")
        .run(Plain.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            finishedWithFailure(
                message(m ->
                    m.endsWith(
                        "upcie.backend: \"fpga\" is not a backend: choose sim, uio, vfio,"
                            + " auto"))));
  }

  @Test
  void onEveryBackendRunsEachAndSkipsTheUnavailableWithReasons(@TempDir Path sysfs)
      throws Exception {
    Files.createDirectories(sysfs.resolve("bus/pci/devices"));

    var events = kit().backend("vfio").sysfs(sysfs).run(Everywhere.class).testEvents();

    events.assertStatistics(s -> s.succeeded(1).skipped(2));
    assertThat(BACKENDS)
        .as("the run's setting does not override the template")
        .containsExactly("sim");
    events
        .assertThatEvents()
        .haveExactly(1, event(displayName("[sim]"), test(), finishedSuccessfully()))
        .haveExactly(
            1,
            event(
                displayName("[vfio]"),
                skippedWithReason(r ->
                    r.contains(
                        "cannot open class 0x010802 on the vfio backend: no PCI function matches"))))
        .haveExactly(
            1,
            event(displayName("[uio]"), skippedWithReason(r -> r.contains("on the uio backend"))));
  }

  static class Plain {
    @Test
    void readsVersion(@PciDevice(classCode = "010802") Mmio bar0) {
      assertThat(bar0.read(NvmeRegisters.VS)).isEqualTo(NvmeModel.QEMU_VS);
      BACKENDS.add("sim");
    }
  }

  static class AsksForVfio {
    @Test
    void test(@PciDevice(classCode = "010802", backend = "vfio") PciDeviceHandle nvme) {
      BACKENDS.add(nvme.backend());
    }
  }

  static class WantsModel {
    @Test
    void test(@PciDevice(classCode = "010802") NvmeModel model) {
      assertThat(model.options().mdts()).isEqualTo(7);
    }
  }

  static class Everywhere {
    @OnEveryBackend
    void test(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
      BACKENDS.add(nvme.backend());
    }
  }
}
