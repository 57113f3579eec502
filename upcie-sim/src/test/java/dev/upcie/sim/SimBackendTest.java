package dev.upcie.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.backend.Availability;
import dev.upcie.backend.DeviceBackend;
import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.InvalidInputException;
import dev.upcie.support.NotSupportedException;
import org.junit.jupiter.api.Test;

/** The simulator as a backend among the others, found through the service loader. */
class SimBackendTest {
  private static final PciSelector NVME = PciSelector.any().withClass(PciClassCode.NVME);

  @Test
  void everyBackendIsFoundAndAutoTriesTheRealOnesFirst() {
    assertThat(DeviceBackends.names()).containsExactly("vfio", "uio", "sim");
    assertThat(DeviceBackends.named("SIM")).isInstanceOf(SimBackend.class);
    assertThatThrownBy(() -> DeviceBackends.named("fpga"))
        .isInstanceOf(InvalidInputException.class)
        .hasMessage("\"fpga\" is not a backend: choose sim, uio, vfio, auto");
  }

  @Test
  void aSimulatedHostIsResolvedAndOpenedOnTheSameMachine() {
    SimMachine machine = SimMachine.qemuQ35();
    machine.sysfs().write("bus/pci/devices/0000:00:05.0/driver_override", "vfio-pci");

    DeviceBackends.Choice choice = DeviceBackends.choose("sim", NVME, b -> machine);
    try (PciDeviceHandle nvme = choice.open()) {
      assertThat(choice.host()).isSameAs(machine);
      assertThat(nvme.function().driverOverride())
          .as("the function of this machine, not of a fresh one")
          .contains("vfio-pci");
    }
  }

  @Test
  void theRealBackendsRefuseASimulatedHostAndAutoFallsBackToTheSimulator() {
    SimMachine machine = SimMachine.qemuQ35();
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:06.0"), "uio_pci_generic");

    for (DeviceBackend real : DeviceBackends.all()) {
      if (real.driver().isPresent()) {
        assertThat(
                real.probe(
                    PciSelector.any().withId(dev.upcie.pci.PciId.parse("1234:11e8")), machine))
            .isInstanceOfSatisfying(
                Availability.Unavailable.class,
                u ->
                    assertThat(u.reason())
                        .contains("is simulated: the " + real.name() + " backend"));
      }
    }
    assertThat(DeviceBackends.choose("auto", NVME, b -> machine).backend().name()).isEqualTo("sim");
  }

  @Test
  void aNonSimulatedHostGetsTheSimulatorsOwnMachineAndTheChoiceSaysWhich() {
    Availability probe = new SimBackend().probe(NVME, Host.system());

    assertThat(probe)
        .isInstanceOfSatisfying(
            Availability.Available.class,
            a -> {
              assertThat(a.function().address()).hasToString("0000:00:05.0");
              assertThat(a.host()).isInstanceOf(SimMachine.class);
            });
    DeviceBackends.Choice choice = DeviceBackends.choose("sim", NVME, b -> Host.system());
    assertThat(choice.host()).isInstanceOf(SimMachine.class);
    choice.open().close();
  }

  @Test
  void theSimulatedControllerHasQemusConfigSpaceAndResetButNoDmaOrInterruptsYet() {
    try (PciDeviceHandle nvme = new SimBackend().open(NVME, SimMachine.qemuQ35())) {
      assertThat(nvme.config().capabilities())
          .extracting(PciCapability::toString)
          .containsExactly("MSI-X@0x40", "PCIe@0x80", "PM@0x60");
      nvme.bar(0).write(NvmeRegisters.CC, 0x00460000);
      nvme.reset();
      assertThat(nvme.bar(0).read(NvmeRegisters.CC)).isZero();
      assertThatThrownBy(nvme::dma)
          .isInstanceOf(NotSupportedException.class)
          .hasMessageStartingWith("the simulator does not model DMA yet");
      assertThatThrownBy(nvme::interrupts)
          .isInstanceOf(NotSupportedException.class)
          .hasMessageStartingWith("the simulator does not model interrupts yet");
    }
  }

  @Test
  void aFunctionWithoutAModelIsNotOffered() {
    Availability probe =
        new SimBackend()
            .probe(
                PciSelector.any().withAddress(PciAddress.parse("00:1f.3")), SimMachine.qemuQ35());

    assertThat(((Availability.Unavailable) probe).reason())
        .startsWith("the simulator has no device model behind 0000:00:1f.3 8086:2930");
  }
}
