package dev.upcie.vfio;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciException;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsTreeFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The checks that run before VFIO is touched; the real open is proven in the QEMU guest. */
class VfioPciDeviceTest {
  @TempDir Path dir;

  @Test
  void anAbsentFunctionIsNamed() {
    new SysfsTreeFixture(dir);

    assertThatThrownBy(() -> VfioPciDevice.open(Sysfs.of(dir), PciAddress.parse("00:09.0")))
        .isInstanceOf(PciException.class)
        .hasMessageStartingWith("no PCI function 0000:00:09.0");
  }

  @Test
  void aFunctionOnAnotherDriverSaysHowToBindIt() {
    new SysfsTreeFixture(dir).function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "nvme", 5);

    assertThatThrownBy(() -> VfioPciDevice.open(Sysfs.of(dir), PciAddress.parse("00:05.0")))
        .isInstanceOf(VfioException.class)
        .hasMessageStartingWith("0000:00:05.0 is bound to nvme, not vfio-pci: bind it first")
        .hasMessageEndingWith(
            "echo vfio-pci > /sys/bus/pci/devices/0000:00:05.0/driver_override && echo"
                + " 0000:00:05.0 > /sys/bus/pci/devices/0000:00:05.0/driver/unbind && echo"
                + " 0000:00:05.0 > /sys/bus/pci/drivers_probe");
  }

  @Test
  void aFunctionWithoutIommuGroupPointsAtTheIommu() {
    new SysfsTreeFixture(dir)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", null);

    assertThatThrownBy(() -> VfioPciDevice.open(Sysfs.of(dir), PciAddress.parse("00:05.0")))
        .isInstanceOf(VfioException.class)
        .hasMessage(
            "0000:00:05.0 has no IOMMU group: the kernel runs without an IOMMU; boot with"
                + " intel_iommu=on (or amd_iommu=on), or use UIO instead of VFIO");
  }

  @Test
  void aGroupSharedWithAHostDriverNamesTheDeviceThatBlocksIt() throws Exception {
    new SysfsTreeFixture(dir)
        .function("0000:00:1f.0", "0x8086", "0x2918", "0x060100", "lpc_ich", 7)
        .function("0000:00:1f.2", "0x8086", "0x2922", "0x010601", "vfio-pci", 7)
        .function("0000:00:1f.3", "0x8086", "0x2930", "0x0c0500", "i801_smbus", 7);
    for (String member : new String[] {"0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3"}) {
      Files.createSymbolicLink(
          dir.resolve("kernel/iommu_groups/7/devices/" + member),
          Path.of("../../../../devices/pci0000:00/" + member));
    }

    assertThatThrownBy(() -> VfioPciDevice.open(Sysfs.of(dir), PciAddress.parse("00:1f.2")))
        .isInstanceOf(VfioException.class)
        .hasMessage(
            "IOMMU group 7 of 0000:00:1f.2 is not viable: 0000:00:1f.0 (bound to lpc_ich),"
                + " 0000:00:1f.3 (bound to i801_smbus) must be bound to vfio-pci or unbound too");
  }

  @Test
  void aMachineWithoutVfioSaysWhichModuleToLoad() {
    assumeFalse(
        Files.exists(Path.of(VfioContainer.PATH)),
        "this machine has VFIO; the guest tests cover it");
    new SysfsTreeFixture(dir)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", 5);

    assertThatThrownBy(() -> VfioPciDevice.open(Sysfs.of(dir), PciAddress.parse("00:05.0")))
        .isInstanceOf(VfioException.class)
        .hasMessage(
            "VFIO is not available: /dev/vfio/vfio does not exist; load it with `modprobe"
                + " vfio-pci` (as root)");
  }
}
