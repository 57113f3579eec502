package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsTreeFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each function's nodes are named from its sysfs entry as udev names them. */
class FunctionNodesTest {
  @TempDir Path dir;

  @Test
  void namesEachKindOfNode() throws Exception {
    new SysfsTreeFixture(dir)
        .function("0000:00:02.0", "0x8086", "0x10d3", "0x020000", "e1000e", 2)
        .function("0000:00:04.0", "0x1b36", "0x0010", "0x010802", "nvme", 4)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", 5)
        .function("0000:00:06.0", "0x1234", "0x11e8", "0x00ff00", "uio_pci_generic", 6)
        .function("0000:00:1f.2", "0x8086", "0x2922", "0x010601", "ahci", 7)
        .function("0000:00:03.0", "0x1af4", "0x1042", "0x018000", "virtio-pci", 3)
        .classDevice("net", "enp0s2", "0000:00:02.0", "net/enp0s2")
        .dir("devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0c0n1")
        .dir("devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0c0n2")
        .dir("devices/pci0000:00/0000:00:04.0/nvme/nvme0/ng0n1")
        .dir("devices/pci0000:00/0000:00:05.0/vfio-dev/vfio0")
        .file("devices/pci0000:00/0000:00:05.0/vfio-dev/vfio0/dev", "511:0\n")
        .dir("devices/pci0000:00/0000:00:06.0/uio/uio0")
        .classDevice("block", "sda", "0000:00:1f.2", "ata1/host0/target0:0:0/0:0:0:0/block/sda")
        .classDevice(
            "block", "sda1", "0000:00:1f.2", "ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1")
        .file(
            "devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sda/sda1/partition",
            "1\n")
        .classDevice("block", "vda", "0000:00:03.0", "virtio1/block/vda");
    Sysfs sysfs = Sysfs.of(dir);
    PciBus bus = new PciBus(sysfs);

    assertThat(nodes(sysfs, bus, "00:02.0"))
        .containsExactly(tuple("enp0s2", FunctionNode.Kind.NETWORK_INTERFACE));
    assertThat(nodes(sysfs, bus, "00:04.0"))
        .as("multipath paths name their heads; the generic ng0n1 is not a disk")
        .containsExactly(
            tuple("/dev/nvme0", FunctionNode.Kind.NVME_CONTROLLER),
            tuple("/dev/nvme0n1", FunctionNode.Kind.BLOCK),
            tuple("/dev/nvme0n2", FunctionNode.Kind.BLOCK));
    assertThat(nodes(sysfs, bus, "00:05.0"))
        .containsExactly(
            tuple("/dev/vfio/5", FunctionNode.Kind.VFIO_GROUP),
            tuple("/dev/vfio/devices/vfio0", FunctionNode.Kind.VFIO_DEVICE));
    assertThat(nodes(sysfs, bus, "00:06.0"))
        .containsExactly(tuple("/dev/uio0", FunctionNode.Kind.UIO));
    assertThat(nodes(sysfs, bus, "00:1f.2"))
        .as("a disk below the SATA host, not its partition")
        .containsExactly(tuple("/dev/sda", FunctionNode.Kind.BLOCK));
    assertThat(nodes(sysfs, bus, "00:03.0"))
        .containsExactly(tuple("/dev/vda", FunctionNode.Kind.BLOCK));
  }

  @Test
  void aVfioDeviceWithoutADevNumberHasNoNode() throws Exception {
    // Linux 6.1 (the guests' Debian kernel) shows vfio-dev/vfio0 but makes no character device.
    new SysfsTreeFixture(dir)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", 5)
        .dir("devices/pci0000:00/0000:00:05.0/vfio-dev/vfio0");
    Sysfs sysfs = Sysfs.of(dir);

    assertThat(nodes(sysfs, new PciBus(sysfs), "00:05.0"))
        .containsExactly(tuple("/dev/vfio/5", FunctionNode.Kind.VFIO_GROUP));
  }

  @Test
  void withoutAnIommuTheGroupNodeIsNoIommu() throws Exception {
    new SysfsTreeFixture(dir)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", 0);
    Files.writeString(dir.resolve("kernel/iommu_groups/0/name"), "vfio-noiommu\n");
    Sysfs sysfs = Sysfs.of(dir);

    assertThat(nodes(sysfs, new PciBus(sysfs), "00:05.0"))
        .containsExactly(tuple("/dev/vfio/noiommu-0", FunctionNode.Kind.VFIO_GROUP));
  }

  private static java.util.List<org.assertj.core.groups.Tuple> nodes(
      Sysfs sysfs, PciBus bus, String address) {
    return FunctionNodes.of(sysfs, bus.function(PciAddress.parse(address))).stream()
        .map(n -> tuple(n.name(), n.kind()))
        .toList();
  }
}
