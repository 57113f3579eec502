package dev.upcie.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SimMachineTest {
  @Test
  void qemuQ35MatchesTheRecordedGuest() {
    // As a QEMU 7.2 q35 guest lists them (it-qemu's QemuVfioIT compares the two in the guest).
    assertThat(SimMachine.qemuQ35().bus().functions())
        .extracting(
            f -> f.address().toString(),
            f -> f.id().toString(),
            f -> f.classCode().toString(),
            f -> f.driver().orElse("-"),
            f -> f.iommuGroup().getAsInt())
        .containsExactly(
            tuple("0000:00:00.0", "8086:29c0", "0x060000", "-", 0),
            tuple("0000:00:01.0", "1234:1111", "0x030000", "-", 1),
            tuple("0000:00:02.0", "8086:10d3", "0x020000", "-", 2),
            tuple("0000:00:03.0", "1af4:1009", "0x000200", "virtio-pci", 3),
            tuple("0000:00:04.0", "1af4:1009", "0x000200", "virtio-pci", 4),
            tuple("0000:00:05.0", "1b36:0010", "0x010802", "nvme", 5),
            tuple("0000:00:06.0", "1234:11e8", "0x00ff00", "-", 6),
            tuple("0000:00:1f.0", "8086:2918", "0x060100", "-", 7),
            tuple("0000:00:1f.2", "8086:2922", "0x010601", "-", 7),
            tuple("0000:00:1f.3", "8086:2930", "0x0c0500", "-", 7));
  }

  @Test
  void opensTheNvmeControllerWithItsRegisters() {
    SimMachine machine = SimMachine.qemuQ35();
    try (SimPciDeviceHandle nvme = machine.open(PciAddress.parse("00:05.0"))) {
      PciFunction function = nvme.function();
      assertThat(function.revision()).isEqualTo(2);
      assertThat(nvme.backend()).isEqualTo("sim");
      assertThat(nvme.bar(0).getLongVolatile(0)).isEqualTo(0x004018200f0107ffL);
      assertThatThrownBy(() -> nvme.bar(2))
          .isInstanceOf(PciException.class)
          .hasMessage("BAR2 of 0000:00:05.0 is not implemented");
    }
  }

  @Test
  void aClosedHandleRefusesItsBars() {
    SimPciDeviceHandle nvme = SimMachine.qemuQ35().open(PciAddress.parse("00:05.0"));
    Mmio bar0 = nvme.bar(0);
    nvme.close();
    nvme.close();

    assertThatThrownBy(() -> bar0.getIntVolatile(0x8))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("is no longer mapped");
    assertThatThrownBy(() -> nvme.bar(0)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theTreeCopiedToDiskReadsLikeTheSimulatedOne(@TempDir Path dir) {
    SimMachine machine = SimMachine.qemuQ35();
    machine.sysfs().copyTo(dir);

    assertThat(new PciBus(Sysfs.of(dir)).functions()).isEqualTo(machine.bus().functions());
  }

  @Test
  void aFunctionWithoutModelCannotBeOpened() {
    assertThatThrownBy(() -> SimMachine.qemuQ35().open(PciAddress.parse("00:02.0")))
        .isInstanceOf(PciException.class)
        .hasMessage(
            "the simulator has no device model behind 0000:00:02.0; functions with one:"
                + " [0000:00:05.0, 0000:00:06.0]");
  }

  @Test
  void thePresetsAreTheRecordedGuestBeforeAndAfterBinding() {
    for (String[] pair :
        new String[][] {{"qemu-q35-iommu-nvme-edu", "boot"}, {"qemu-q35-iommu-vfio", "vfio"}}) {
      try (SimMachine preset =
              pair[1].equals("boot") ? SimMachine.qemuQ35() : SimMachine.qemuQ35Vfio();
          SimMachine recorded = SimMachine.fromRecording(recording(pair[0]))) {
        // Everything PciBus reads: ids, subsystem, class, revision, driver, override, group, node.
        assertThat(preset.bus().functions())
            .as(pair[0])
            .containsExactlyElementsOf(recorded.bus().functions());
      }
    }
  }

  @Test
  void aRecordedMachineHasModelsBehindTheFunctionsItKnows() {
    try (SimMachine machine = SimMachine.fromRecording(recording("qemu-q35-iommu-vfio"));
        SimPciDeviceHandle edu = machine.open(PciAddress.parse("0000:00:06.0"))) {
      assertThat(edu.bar(0).getIntVolatile(0)).isEqualTo(0x010000ed);
      assertThat(machine.hasModel(PciAddress.parse("0000:00:05.0"))).isTrue();
      assertThat(machine.hasModel(PciAddress.parse("0000:00:02.0"))).isFalse();
      assertThat(edu.config().read16(0)).as("the recorded config space").isEqualTo(0x1234);
      assertThat(machine.dev().resolve("vfio/6")).exists();
    }
  }

  @Test
  void aSurpriseRemovedDeviceReadsAllOnesAndVanishesFromSysfs() {
    PciAddress address = PciAddress.parse("0000:00:06.0");
    try (SimMachine machine = SimMachine.qemuQ35Vfio();
        SimPciDeviceHandle edu = machine.open(address)) {
      Mmio bar0 = edu.bar(0);
      machine.unplug(address);

      assertThat(bar0.getIntVolatile(0)).as("a mapped BAR reads all-ones").isEqualTo(-1);
      assertThatThrownBy(() -> edu.bar(0)).hasMessageContaining("surprise-removed");
      assertThat(machine.bus().find(address)).isEmpty();
      assertThat(machine.dev().resolve("vfio/6")).doesNotExist();
      assertThat(machine.trace().toString()).contains("surprise-removed");
      assertThatThrownBy(() -> machine.open(address)).isInstanceOf(PciException.class);
    }
  }

  @Test
  void uioAndNvmeBindingsGetTheirDeviceNodes() {
    try (SimMachine machine = SimMachine.qemuQ35()) {
      Sysfs sysfs = machine.sysfs();
      assertThat(machine.dev().resolve("nvme0")).exists();

      sysfs.write("bus/pci/devices/0000:00:06.0/driver_override", "uio_pci_generic");
      sysfs.write("bus/pci/drivers_probe", "0000:00:06.0");
      assertThat(machine.dev().resolve("uio0")).exists();
      sysfs.write("bus/pci/devices/0000:00:05.0/driver/unbind", "0000:00:05.0");
      assertThat(machine.dev().resolve("nvme0")).doesNotExist();
    }
  }

  @Test
  void sysfsResetAndConfigWritesReachTheModel() {
    PciAddress edu = PciAddress.parse("0000:00:06.0");
    PciAddress nvme = PciAddress.parse("0000:00:05.0");
    try (SimMachine machine = SimMachine.qemuQ35Vfio();
        SimPciDeviceHandle eduHandle = machine.open(edu);
        SimPciDeviceHandle nvmeHandle = machine.open(nvme)) {
      machine.sysfs().writeBytes("bus/pci/devices/0000:00:06.0/config", 4, new byte[] {0x06, 0});
      assertThat(eduHandle.config().read16(4) & 0x4)
          .as("bus master, set through sysfs")
          .isEqualTo(4);
      assertThat(machine.sysfs().exists("bus/pci/devices/0000:00:06.0/reset"))
          .as("QEMU's edu has no reset method, so no reset store")
          .isFalse();

      nvmeHandle.bar(0).putIntVolatile(NvmeRegisters.CC.offset(), 0x460000);
      machine.sysfs().write("bus/pci/devices/0000:00:05.0/reset", "1");
      assertThat(nvmeHandle.bar(0).getIntVolatile(NvmeRegisters.CC.offset())).isZero();
    }
  }

  private static Path recording(String name) {
    try {
      return Path.of(SimMachineTest.class.getResource("/sysfs/" + name + ".umockdev").toURI());
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
