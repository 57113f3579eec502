package dev.upcie.junit;

import static dev.upcie.junit.Kit.kit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import dev.upcie.junit.FailureReport.DeviceState;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.edu.EduRegisters;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.Event;

/**
 * A failing test explains itself: what its devices show rides along with the failure; and what a
 * test leaves wrong (DMA faults, mappings) fails it, unless the test says that is what it tests.
 */
class FailureReportTest {

  @Test
  void aFailureCarriesTheTraceTheRegistersAndHowTheMachineWasBuilt() {
    Event failed =
        kit().run(Failing.class).testEvents().failed().stream().findFirst().orElseThrow();
    Throwable failure =
        failed
            .getPayload(org.junit.platform.engine.TestExecutionResult.class)
            .orElseThrow()
            .getThrowable()
            .orElseThrow();

    assertThat(failure).hasMessage("the driver's own check failed");
    assertThat(Arrays.asList(failure.getSuppressed()))
        .singleElement()
        .isInstanceOf(DeviceState.class)
        .extracting(Throwable::getMessage)
        .asString()
        .startsWith("the test's devices:")
        .contains("sim (chosen by the default) 0000:00:05.0 1b36:0010 NVMe controller")
        .contains("machine: preset qemu-q35-vfio, virtual time, clock at ")
        .containsPattern("replay: -Dupcie.sim.replay=seed=-?\\d+,time=virtual runs it again")
        .containsPattern("csts +0x00000001 +rdy=1 cfs=0")
        .contains("of the driver's commands:")
        .containsPattern("q0 cid \\d+ +Identify .*-> Successful Completion \\(0x0000\\)")
        .contains("trace events:")
        .contains("COMMAND")
        .contains("COMPLETION");
  }

  @Test
  void aDmaFaultDuringTheTestFailsItUnlessSwitchedOff() {
    kit()
        .run(Faulting.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            event(
                test("faults"),
                finishedWithFailure(
                    message(m ->
                        m.startsWith("the simulated IOMMU refused 1 DMA access during the test")
                            && m.contains("0000:00:06.0")))))
        .haveExactly(1, event(test("faultsOnPurpose"), finishedSuccessfully()));
  }

  @Test
  void aDmaHeapLeftOpenFailsTheTestThatLeftIt() {
    kit()
        .run(Leaking.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            event(
                test("leaks"),
                finishedWithFailure(
                    message(m ->
                        m.startsWith(
                            "the test left 1 DMA mapping of 0000:00:05.0 in the simulated IOMMU"
                                + " (close every DmaHeap and DmaMapping): [")))))
        .haveExactly(1, event(test("tidy"), finishedSuccessfully()));
  }

  @SimulatedMachine(time = SimulatedMachine.Time.VIRTUAL)
  static class Failing {
    @Test
    void test(@PciDevice(classCode = "010802") NvmeController nvme) {
      nvme.identify();
      throw new AssertionError("the driver's own check failed");
    }
  }

  static class Faulting {
    @Test
    void faults(@PciDevice(id = "1234:11e8") PciDeviceHandle edu) {
      startDmaFromNowhere(edu);
    }

    @Test
    @PciDeviceSettings(checkDmaFaults = false)
    void faultsOnPurpose(
        @PciDevice(id = "1234:11e8") PciDeviceHandle edu,
        @PciDevice(id = "1234:11e8") SimMachine machine) {
      startDmaFromNowhere(edu);
      assertThat(machine.iommu().faultCount()).isOne();
    }

    /** Tells edu to copy from an IOVA nothing is mapped at; it runs at once, in real time. */
    private static void startDmaFromNowhere(PciDeviceHandle edu) {
      edu.config().enableBusMaster();
      edu.bar(0).write(EduRegisters.DMA_SOURCE, 0x7000_0000L);
      edu.bar(0).write(EduRegisters.DMA_DESTINATION, EduRegisters.BUFFER);
      edu.bar(0).write(EduRegisters.DMA_COUNT, 8);
      edu.bar(0).write(EduRegisters.DMA_COMMAND, EduRegisters.DMA_RUN.mask());
      org.awaitility.Awaitility.await()
          .until(
              () -> (edu.bar(0).read(EduRegisters.DMA_COMMAND) & EduRegisters.DMA_RUN.mask()) == 0);
    }
  }

  static class Leaking {
    @Test
    void leaks(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
      DmaHeap heap = nvme.dma().heap(8192);
      assertThat(heap).isNotNull();
    }

    @Test
    void tidy(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
      try (DmaHeap heap = nvme.dma().heap(8192)) {
        assertThat(heap).isNotNull();
      }
    }
  }
}
