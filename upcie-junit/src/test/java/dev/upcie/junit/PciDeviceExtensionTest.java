package dev.upcie.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Events;

class PciDeviceExtensionTest {
  static final List<PciDeviceHandle> SEEN = new ArrayList<>();

  @Test
  void theSimBackendIsTheDefaultAndHandsOutTheSimulatedNvme() {
    SEEN.clear();
    Events tests = run(SimTests.class, null, null).testEvents();

    tests.assertStatistics(stats -> stats.started(3).succeeded(3));
    assertThat(SEEN)
        .hasSize(3)
        .allSatisfy(d -> assertThat(d).isInstanceOf(SimPciDeviceHandle.class));
  }

  @Test
  void devicesAreClosedAfterTheirTest() {
    SEEN.clear();
    run(SimTests.class, "sim", null).testEvents().assertStatistics(stats -> stats.succeeded(3));

    assertThat(SEEN)
        .allSatisfy(d ->
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> d.bar(0))
                .isInstanceOf(IllegalStateException.class));
  }

  @Test
  void theVfioBackendFailsWithTheReasonWhenNoFunctionMatches(@TempDir Path sysfs) throws Exception {
    Files.createDirectories(sysfs.resolve("bus/pci/devices"));

    Events tests = run(VfioTests.class, "vfio", sysfs).testEvents();

    tests
        .assertThatEvents()
        .haveExactly(
            1,
            event(
                test("readsCap"),
                finishedWithFailure(
                    message(
                        "@PciDevice parameter [nvme] of VfioTests.readsCap: cannot open class"
                            + " 0x010802 on the vfio backend: no PCI function matches class"
                            + " 0x010802 in "
                            + sysfs
                            + "/bus/pci/devices (it is empty)"))));
  }

  @Test
  void autoFallsBackToTheSimulatorWhenNothingIsBoundToVfio(@TempDir Path sysfs) throws Exception {
    Files.createDirectories(sysfs.resolve("bus/pci/devices"));
    SEEN.clear();

    run(SimTests.class, "auto", sysfs).testEvents().assertStatistics(stats -> stats.succeeded(3));

    assertThat(SEEN).allSatisfy(d -> assertThat(d.backend()).isEqualTo("sim"));
  }

  @Test
  void theVfioBackendNeverTakesAFunctionOnAHostDriver(@TempDir Path sysfs) {
    SimMachine.qemuQ35().sysfs().copyTo(sysfs);

    run(VfioTests.class, "vfio", sysfs)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            finishedWithFailure(
                message(m ->
                    m.contains(
                        "no PCI function matching class 0x010802 is bound to vfio-pci"
                            + " (candidates: 0000:00:05.0 on nvme); bind the one meant for"
                            + " this use to vfio-pci first, as root: echo vfio-pci > "))));
  }

  @Test
  void autoTakesTheRealBackendAFunctionIsBoundForAndReportsWhyItCannotOpenIt(@TempDir Path sysfs) {
    SimMachine machine = SimMachine.qemuQ35();
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:05.0"), "vfio-pci");
    machine.sysfs().copyTo(sysfs);

    run(SimTests.class, "auto", sysfs)
        .testEvents()
        .assertThatEvents()
        .haveAtLeast(
            1,
            finishedWithFailure(
                message(m ->
                    m.contains(
                        "on the vfio backend, which auto chose because a matching function is"
                            + " bound to vfio-pci: "))));
  }

  @Test
  void configurationMistakesAreReportedPrecisely() {
    Events tests = run(BadTests.class, null, null).testEvents();

    tests
        .assertThatEvents()
        .haveExactly(
            1,
            event(
                test("noCriteria"),
                finishedWithFailure(
                    message(
                        "@PciDevice parameter [device] of BadTests.noCriteria selects nothing:"
                            + " give an address, an id or a classCode"))))
        .haveExactly(
            1,
            event(
                test("wrongType"),
                finishedWithFailure(
                    message(m ->
                        m.contains("has type java.lang.String; declare it as PciDeviceHandle")))))
        .haveExactly(
            1,
            event(
                test("badAddress"),
                finishedWithFailure(message(m -> m.contains("invalid PCI address \"00:zz.0\"")))))
        .haveExactly(
            1,
            event(
                test("otherHandleTypeOnSim"),
                finishedWithFailure(
                    message(
                        "@PciDevice parameter [device] of BadTests.otherHandleTypeOnSim wants a"
                            + " OtherHandle, but the sim backend opens devices of another kind;"
                            + " declare it as PciDeviceHandle"))));
  }

  @Test
  void anUnknownBackendNamesTheSettingAndTheChoices() {
    run(SimTests.class, "fpga", null)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            3,
            finishedWithFailure(
                message(m ->
                    m.endsWith(
                        "upcie.backend: \"fpga\" is not a backend: choose sim, uio, vfio,"
                            + " auto"))));
  }

  private static org.junit.platform.testkit.engine.EngineExecutionResults run(
      Class<?> testClass, String backend, Path sysfsRoot) {
    var request = EngineTestKit.engine("junit-jupiter").selectors(selectClass(testClass));
    if (backend != null) {
      request.configurationParameter(PciDeviceExtension.BACKEND_PROPERTY, backend);
    }
    if (sysfsRoot != null) {
      request.configurationParameter(PciDeviceExtension.SYSFS_ROOT_PROPERTY, sysfsRoot.toString());
    }
    return request.execute();
  }

  static class SimTests {
    @Test
    void byClass(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
      SEEN.add(nvme);
      assertThat(nvme.bar(0).getIntVolatile(NvmeRegisters.VS.offset())).isEqualTo(0x00010400);
    }

    @Test
    void byIdAndAddress(@PciDevice(id = "1b36:0010", address = "00:05.0") PciDeviceHandle nvme) {
      SEEN.add(nvme);
      assertThat(nvme.address()).hasToString("0000:00:05.0");
    }

    @Test
    void pinnedToTheSimulator(@PciDevice(classCode = "0108") SimPciDeviceHandle nvme) {
      SEEN.add(nvme);
      assertThat(nvme.model()).isNotNull();
    }
  }

  static class VfioTests {
    @Test
    void readsCap(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
      nvme.bar(0).getLongVolatile(NvmeRegisters.CAP.offset());
    }
  }

  static class BadTests {
    @Test
    void noCriteria(@PciDevice PciDeviceHandle device) {}

    @Test
    void wrongType(@PciDevice(classCode = "0108") String device) {}

    @Test
    void badAddress(@PciDevice(address = "00:zz.0") PciDeviceHandle device) {}

    @Test
    void otherHandleTypeOnSim(@PciDevice(classCode = "0108") OtherHandle device) {}
  }

  /** A handle type no backend here opens. */
  interface OtherHandle extends PciDeviceHandle {}
}
