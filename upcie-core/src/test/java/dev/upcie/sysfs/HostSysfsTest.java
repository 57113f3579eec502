package dev.upcie.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.upcie.errno.Errno;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostSysfsTest {
  @TempDir Path dir;

  @Test
  void readsListsAndFollowsLinksOfATree() {
    new SysfsTreeFixture(dir)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "nvme", 5)
        .function("0000:00:04.0", "0x1af4", "0x1009", "0x000200", null, null);
    Sysfs sysfs = Sysfs.of(dir);

    assertThat(sysfs.list("bus/pci/devices")).containsExactly("0000:00:04.0", "0000:00:05.0");
    assertThat(sysfs.read("bus/pci/devices/0000:00:05.0/vendor")).isEqualTo("0x1b36\n");
    assertThat(sysfs.readAttribute("bus/pci/devices/0000:00:05.0/vendor")).isEqualTo("0x1b36");
    assertThat(sysfs.readLink("bus/pci/devices/0000:00:05.0/driver"))
        .contains("../../../bus/pci/drivers/nvme");
    assertThat(sysfs.readLink("bus/pci/devices/0000:00:04.0/driver")).isEmpty();
    assertThat(sysfs.exists("bus/pci/devices/0000:00:05.0/iommu_group")).isTrue();
  }

  @Test
  void writesReplaceTheWholeValueEvenWhenTheNewOneIsShorter() throws Exception {
    new SysfsTreeFixture(dir).file("bus/pci/drivers_probe", "0000:00:05.0\n");
    Sysfs sysfs = Sysfs.of(dir);

    sysfs.write("bus/pci/drivers_probe", "00:4");

    assertThat(Files.readString(dir.resolve("bus/pci/drivers_probe"))).isEqualTo("00:4");
  }

  @Test
  void failuresCarryThePathAndTheErrno() {
    new SysfsTreeFixture(dir);
    Sysfs sysfs = Sysfs.of(dir);

    assertThatThrownBy(() -> sysfs.read("bus/pci/devices/0000:09:00.0/vendor"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENOENT)).isTrue())
        .hasMessage(
            "read "
                + dir
                + "/bus/pci/devices/0000:09:00.0/vendor: ENOENT (No such file or directory)");
    assertThatThrownBy(() -> sysfs.write("bus/pci/nope", "1"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENOENT)).isTrue())
        .hasMessageStartingWith("write \"1\" to " + dir + "/bus/pci/nope: ENOENT");
    assertThatThrownBy(() -> sysfs.list("bus/pci/missing"))
        .isInstanceOf(SysfsException.class)
        .hasMessageContaining("list " + dir + "/bus/pci/missing");
  }

  @Test
  void theKernelRefusesWritesToReadOnlyAttributesEvenForRoot() {
    Sysfs sysfs = Sysfs.system();
    assumeTrue(sysfs.exists("bus/pci/devices"), "this machine has no /sys/bus/pci/devices");
    List<String> functions = sysfs.list("bus/pci/devices");
    assumeTrue(!functions.isEmpty(), "this machine has no PCI functions");
    String vendor = "bus/pci/devices/" + functions.get(0) + "/vendor";

    assertThatThrownBy(() -> sysfs.write(vendor, "0x1234"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.EACCES)).isTrue())
        .hasMessageContaining("/sys/" + vendor + ": EACCES (Permission denied)")
        .hasMessageContaining("some attributes are read-only");
    assertThat(sysfs.readAttribute(vendor)).startsWith("0x");
  }
}
