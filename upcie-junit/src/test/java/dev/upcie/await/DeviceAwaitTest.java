package dev.upcie.await;

import static dev.upcie.assertj.UpcieAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.register.RegisterDump;
import dev.upcie.register.RegisterValue;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.edu.EduRegisters;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.nvme.NvmeOptions;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Waits on the simulated NVMe controller's CSTS.RDY and edu's factorial, in real time. */
class DeviceAwaitTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");
  // CC as a driver writes it: 64-byte submission and 16-byte completion entries, enabled.
  private static final long CC_ENABLE = 0x00460001;

  private SimMachine machine;
  private SimPciDeviceHandle device;

  @AfterEach
  void close() {
    if (device != null) {
      device.close();
    }
    if (machine != null) {
      machine.close();
    }
  }

  private Mmio open(SimMachine machine, PciAddress address) {
    this.machine = machine;
    this.device = machine.open(address);
    return device.bar(0);
  }

  // Admin queue sizes the controller accepts; the queues themselves are never used here.
  private static void enable(Mmio bar0) {
    bar0.write(NvmeRegisters.AQA, 0x000f000f);
    bar0.write(NvmeRegisters.CC, CC_ENABLE);
  }

  @Test
  void untilWaitsForCstsRdyToRiseAndReturnsThatRead() {
    NvmeModel late =
        new NvmeModel(NvmeOptions.builder().readyDelay(Duration.ofMillis(500)).build());
    Mmio bar0 =
        open(
            SimMachine.builder()
                .driver(SimDriver.overrideOnly("vfio-pci"))
                .device(SimFunction.builder(NVME.toString()).iommuGroup(5).driver("vfio-pci"), late)
                .build(),
            NVME);
    enable(bar0);
    assertThat(bar0.readValue(NvmeRegisters.CSTS).isSet(NvmeRegisters.CSTS_RDY))
        .as("not ready yet: the wait is real")
        .isFalse();

    RegisterValue csts =
        DeviceAwait.on(bar0).atMost(Duration.ofSeconds(10)).until(NvmeRegisters.CSTS_RDY, 1);

    assertThat(csts).hasValue(1);
  }

  @Test
  void aTimeoutSaysWhatWasAwaitedTheLastValueAndDumpsTheController() {
    Mmio bar0 = open(SimMachine.qemuQ35Vfio(), NVME);
    ((NvmeModel) device.model()).faults().holdReady();
    enable(bar0);

    assertThatThrownBy(() ->
            DeviceAwait.on(bar0).atMost(Duration.ofMillis(200)).until(NvmeRegisters.CSTS_RDY, 1))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith(
            "CSTS.RDY of " + bar0.name() + " did not become 1 within 200 ms: the last of ")
        .hasMessageContaining(
            " reads gave 0, in CSTS = 0x00000000 (rdy=0 cfs=0 shst=0 nssro=0 pp=0)%n".formatted()
                + "Registers at the timeout:%n".formatted()
                + String.join(System.lineSeparator(), NvmeRegisters.dump(bar0).lines()))
        .hasMessageContaining("cc      0x00460001          en=1 css=0 mps=0 ams=0 shn=0 iosqes=6")
        .hasMessageEndingWith("acq     0x0000000000000000");
  }

  @Test
  void untilAssertedOnARegisterGivesTheLastValueAndTheLastFailure() {
    Mmio bar0 = open(SimMachine.qemuQ35Vfio(), NVME);
    ((NvmeModel) device.model()).faults().holdReady();
    enable(bar0);

    assertThatThrownBy(() ->
            DeviceAwait.on(bar0)
                .atMost(Duration.ofMillis(100))
                .untilAsserted(
                    NvmeRegisters.CSTS,
                    csts -> assertThat(csts).field(NvmeRegisters.CSTS_RDY).isEqualTo(1)))
        .hasMessageContaining(
            "CSTS of " + bar0.name() + " did not satisfy the assertion within 100 ms")
        .hasMessageContaining(
            "reads gave CSTS = 0x00000000 (rdy=0 cfs=0 shst=0 nssro=0 pp=0), which failed last"
                + " with:%n  [CSTS.RDY of 0x00000000 (rdy=0 cfs=0 shst=0 nssro=0 pp=0)]"
                    .formatted())
        .hasMessageContaining("Registers at the timeout:")
        .cause()
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("expected: 1");

    ((NvmeModel) device.model()).faults().releaseReady();
    assertThat(
            DeviceAwait.on(bar0)
                .untilAsserted(
                    NvmeRegisters.CSTS,
                    csts -> assertThat(csts).field(NvmeRegisters.CSTS_RDY).isEqualTo(1)))
        .hasField(NvmeRegisters.CSTS_RDY, 1);
  }

  @Test
  void eduFinishesItsFactorialAndAnotherDevicesTimeoutShowsItsOwnRegister() {
    Mmio bar0 = open(SimMachine.qemuQ35Vfio(), EDU);
    bar0.write(EduRegisters.FACTORIAL, 5);

    DeviceAwait.on(bar0).until(EduRegisters.STATUS_COMPUTING, 0);

    assertThat(bar0.read(EduRegisters.FACTORIAL)).isEqualTo(120);
    assertThatThrownBy(() ->
            DeviceAwait.on(bar0)
                .atMost(Duration.ofMillis(50))
                .until(EduRegisters.STATUS_COMPUTING, 1))
        .hasMessageContaining("reads gave 0, in STATUS = 0x00000000 (computing=0)")
        .hasMessageEndingWith("Registers at the timeout:%nstatus  0x00000000".formatted());
  }

  @Test
  void aDumpOfTheCallersChoiceAndAnAssertionOnAnything() {
    Mmio bar0 = open(SimMachine.qemuQ35Vfio(), EDU);
    bar0.write(EduRegisters.FACTORIAL, 4);
    DeviceAwait eduAwait =
        DeviceAwait.on(bar0)
            .atMost(Duration.ofMillis(50))
            .dumping(() ->
                RegisterDump.read(
                    List.of(EduRegisters.ID, EduRegisters.FACTORIAL, EduRegisters.STATUS),
                    bar0::read,
                    List.of(EduRegisters.STATUS_COMPUTING)));

    assertThatThrownBy(() ->
            eduAwait.untilAsserted(
                () -> assertThat(bar0.read(EduRegisters.FACTORIAL)).isEqualTo(25)))
        .hasMessageStartingWith(
            "An assertion on " + bar0.name() + " did not pass within 50 ms: it failed last with:")
        .hasMessageContaining("expected: 25")
        .hasMessageContaining(
            String.join(
                System.lineSeparator(),
                "Registers at the timeout:",
                "id        0x010000ed",
                "factorial 0x00000018",
                "status    0x00000000          computing=0"));
  }

  @Test
  void anExceptionOtherThanAnAssertionEndsTheWaitAtOnce() {
    Mmio bar0 = open(SimMachine.qemuQ35Vfio(), EDU);

    assertThatThrownBy(() ->
            DeviceAwait.on(bar0)
                .atMost(Duration.ofMinutes(10))
                .untilAsserted(() -> {
                  throw new IllegalStateException("the device went away");
                }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the device went away");
    assertThatThrownBy(() -> DeviceAwait.on(bar0).atMost(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("atMost must be positive: PT0S");
  }
}
