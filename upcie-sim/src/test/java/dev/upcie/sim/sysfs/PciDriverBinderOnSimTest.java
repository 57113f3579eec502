package dev.upcie.sim.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.sim.SimMachine;
import dev.upcie.support.EnvironmentException;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The core binder against the simulated kernel: the binding algorithm end to end. */
class PciDriverBinderOnSimTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");

  private SimSysfs sysfs;
  private PciBus bus;
  private PciDriverBinder binder;

  @BeforeEach
  void machine() {
    sysfs = SimMachine.qemuQ35().sysfs();
    bus = new PciBus(sysfs);
    binder = new PciDriverBinder(sysfs);
  }

  @Test
  void bindsToVfioKeepingTheOverrideAndRestoresTheKernelDriver() {
    PciBinding before = binder.bind(NVME, "vfio-pci");

    PciFunction bound = bus.function(NVME);
    assertThat(bound.driver()).contains("vfio-pci");
    assertThat(bound.driverOverride()).as("sticky by default").contains("vfio-pci");
    assertThat(before).isEqualTo(new PciBinding(NVME, Optional.of("nvme"), Optional.empty()));

    binder.restore(before);

    PciFunction restored = bus.function(NVME);
    assertThat(restored.driver()).contains("nvme");
    assertThat(restored.driverOverride()).isEmpty();
  }

  @Test
  void bindsAnUnboundFunctionAndRestoresItToNoDriver() {
    PciBinding before = binder.bind(EDU, "vfio-pci");
    assertThat(bus.function(EDU).driver()).contains("vfio-pci");

    binder.restore(before);
    assertThat(bus.function(EDU).driver()).isEmpty();
    assertThat(bus.function(EDU).driverOverride()).isEmpty();
  }

  @Test
  void bindingToTheCurrentDriverChangesNothing() {
    binder.bind(NVME, "vfio-pci");
    PciBinding second = binder.bind(NVME, "vfio-pci");

    assertThat(second.driver()).contains("vfio-pci");
    assertThat(bus.function(NVME).driver()).contains("vfio-pci");
  }

  @Test
  void aDriverThatRejectsTheFunctionIsRolledBackToTheOldDriver() {
    assertThatThrownBy(() -> binder.bind(NVME, "virtio-pci"))
        .isInstanceOf(PciException.class)
        .hasMessage(
            "binding 0000:00:05.0 to virtio-pci failed: after drivers_probe it is bound to no"
                + " driver (the driver refused it; see dmesg); restored 0000:00:05.0 on nvme");

    assertThat(bus.function(NVME).driver()).contains("nvme");
    assertThat(bus.function(NVME).driverOverride()).isEmpty();
  }

  @Test
  void aDriverThatIsNotLoadedIsNamedWithTheCommandThatLoadsIt() {
    assertThatThrownBy(() -> binder.bind(NVME, "igb_uio"))
        .isInstanceOf(EnvironmentException.class)
        .hasMessage(
            "cannot bind 0000:00:05.0 to igb_uio: the driver is not loaded (no"
                + " /sys/bus/pci/drivers/igb_uio); load it with `modprobe igb_uio`");
    assertThat(bus.function(NVME).driver()).contains("nvme");
  }

  @Test
  void anAbsentFunctionIsNamed() {
    assertThatThrownBy(() -> binder.bind(PciAddress.parse("00:09.0"), "vfio-pci"))
        .isInstanceOf(PciException.class)
        .hasMessageStartingWith("no PCI function 0000:00:09.0 in /sys/bus/pci/devices");
  }
}
