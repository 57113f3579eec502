package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsTreeFixture;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Controller, disk and partition names lead to the controller's function, multipath included. */
class NvmeDeviceNamesTest {
  @TempDir Path dir;

  private Sysfs tree() {
    return Sysfs.of(
        new SysfsTreeFixture(dir)
            .function("0000:00:04.0", "0x1b36", "0x0010", "0x010802", "nvme", 4)
            .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "nvme", 5)
            .function("0000:00:06.0", "0x1b36", "0x0010", "0x010802", "nvme", 6)
            // nvme0 without multipath: its disk lies below it.
            .classDevice("nvme", "nvme0", "0000:00:04.0", "nvme/nvme0")
            .classDevice("block", "nvme0n1", "0000:00:04.0", "nvme/nvme0/nvme0n1")
            // nvme1 with native multipath: the path nvme1c1n1 below it, the head nvme1n1 virtual.
            .classDevice("nvme", "nvme1", "0000:00:05.0", "nvme/nvme1")
            .dir("devices/pci0000:00/0000:00:05.0/nvme/nvme1/nvme1c1n1")
            .dir("devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1")
            .classDevice("nvme", "nvme2", "0000:00:06.0", "nvme/nvme2")
            .dir("devices/pci0000:00/0000:00:06.0/nvme/nvme2/nvme3c2n1")
            .dir("devices/pci0000:00/0000:00:05.0/nvme/nvme1/nvme3c1n1")
            .root());
  }

  @Test
  void eachKindOfNameLeadsToItsController() throws Exception {
    Sysfs sysfs = tree();
    java.nio.file.Files.createSymbolicLink(
        dir.resolve("class/block/nvme1n1"),
        Path.of("../../devices/virtual/nvme-subsystem/nvme-subsys1/nvme1n1"));

    assertThat(NvmeDeviceNames.resolve(sysfs, "nvme0")).hasToString("0000:00:04.0");
    assertThat(NvmeDeviceNames.resolve(sysfs, "/dev/nvme0")).hasToString("0000:00:04.0");
    assertThat(NvmeDeviceNames.resolve(sysfs, "/dev/nvme0n1")).hasToString("0000:00:04.0");
    assertThat(NvmeDeviceNames.resolve(sysfs, "/dev/nvme0n1p2")).hasToString("0000:00:04.0");
    assertThat(NvmeDeviceNames.resolve(sysfs, "nvme1n1"))
        .as("a multipath head, through its one path")
        .hasToString("0000:00:05.0");
  }

  @Test
  void namesThatLeadNowhereOrToSeveralControllersSaySo() throws Exception {
    Sysfs sysfs = tree();
    java.nio.file.Files.createSymbolicLink(
        dir.resolve("class/block/nvme3n1"),
        Path.of("../../devices/virtual/nvme-subsystem/nvme-subsys3/nvme3n1"));

    assertThatThrownBy(() -> NvmeDeviceNames.resolve(sysfs, "nvme7"))
        .isInstanceOf(PciFunctionNotFoundException.class)
        .hasMessage(
            "no NVMe device nvme7: "
                + dir.resolve("class/nvme/nvme7")
                + " does not exist (only the controllers the kernel's nvme driver holds have"
                + " names; `upcie devbind list --class nvme` shows every NVMe function)");
    assertThatThrownBy(() -> NvmeDeviceNames.resolve(sysfs, "/dev/nvme0n9"))
        .hasMessageStartingWith("no NVMe device /dev/nvme0n9: ");
    assertThatThrownBy(() -> NvmeDeviceNames.resolve(sysfs, "nvme3n1"))
        .hasMessage(
            "nvme3n1 is reached through 2 controllers (0000:00:05.0, 0000:00:06.0): name one by"
                + " address");
    assertThat(NvmeDeviceNames.isNvmeName("sda")).isFalse();
    assertThat(NvmeDeviceNames.isNvmeName("/dev/nvme0n1p1")).isTrue();
  }
}
