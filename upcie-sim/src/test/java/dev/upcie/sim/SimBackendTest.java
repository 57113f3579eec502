package dev.upcie.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.backend.Availability;
import dev.upcie.backend.DeviceBackend;
import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.interrupt.InterruptMode;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.edu.EduModel;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import dev.upcie.support.InvalidInputException;
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
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:05.0"), "vfio-pci");

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
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:05.0"), "vfio-pci");

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
  void theSimulatedControllerHasQemusConfigSpaceResetDmaAndInterrupts() {
    try (PciDeviceHandle nvme = new SimBackend().open(NVME, SimMachine.qemuQ35Vfio())) {
      assertThat(nvme.config().capabilities())
          .extracting(PciCapability::toString)
          .containsExactly("MSI-X@0x40", "PCIe@0x80", "PM@0x60");
      nvme.bar(0).write(NvmeRegisters.CC, 0x00460000);
      nvme.reset();
      assertThat(nvme.bar(0).read(NvmeRegisters.CC)).isZero();
      assertThat(nvme.dma().translated()).isTrue();
      assertThat(nvme.interrupts().modes()).containsExactly(InterruptMode.MSIX, InterruptMode.INTX);
      assertThat(nvme.interrupts().vectors(InterruptMode.MSIX)).isEqualTo(65);
    }
  }

  @Test
  void aFunctionOnAnotherDriverIsRefusedAsTheVfioBackendRefusesIt() {
    Availability probe = new SimBackend().probe(NVME, SimMachine.qemuQ35());

    assertThat(((Availability.Unavailable) probe).reason())
        .startsWith("no PCI function matching class 0x010802 is bound to vfio-pci")
        .contains("0000:00:05.0 on nvme");
  }

  @Test
  void aGroupWithAFunctionOnAnotherDriverIsNotViable() {
    SimMachine machine =
        SimMachine.builder()
            .driver(SimDriver.overrideOnly("vfio-pci"))
            .driver(SimDriver.overrideOnly("pci-stub-like"))
            .device(
                SimFunction.builder("0000:00:06.0").iommuGroup(9).driver("vfio-pci"),
                new EduModel())
            .function(
                SimFunction.builder("0000:00:06.1").iommuGroup(9).driver("pci-stub-like").build())
            .build();

    assertThatThrownBy(() ->
            new SimBackend()
                .open(PciSelector.any().withAddress(PciAddress.parse("00:06.0")), machine))
        .hasMessage(
            "IOMMU group 9 of 0000:00:06.0 is not viable: 0000:00:06.1 (bound to pci-stub-like)"
                + " must be bound to vfio-pci or unbound too");
  }

  @Test
  void aFunctionWithoutAModelIsNotOffered() {
    SimMachine machine = SimMachine.qemuQ35();
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:1f.3"), "vfio-pci");
    Availability probe =
        new SimBackend().probe(PciSelector.any().withAddress(PciAddress.parse("00:1f.3")), machine);

    assertThat(((Availability.Unavailable) probe).reason())
        .startsWith("the simulator has no device model behind 0000:00:1f.3 8086:2930");
  }

  @Test
  void bindingMakesAndRemovesTheGroupNode() {
    SimMachine machine = SimMachine.qemuQ35();
    assertThat(machine.dev().resolve("vfio/vfio")).exists();
    assertThat(machine.dev().resolve("vfio/6")).doesNotExist();

    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:06.0"), "vfio-pci");
    assertThat(machine.dev().resolve("vfio/6")).exists();
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:06.0"), "uio_pci_generic");
    assertThat(machine.dev().resolve("vfio/6")).doesNotExist();
  }
}
