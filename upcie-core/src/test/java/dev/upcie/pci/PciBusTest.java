package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsTreeFixture;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PciBusTest {
  @TempDir Path dir;

  @Test
  void readsEveryFunctionOfATreeInAddressOrder() {
    new SysfsTreeFixture(dir)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "nvme", 5)
        .function("0000:00:04.0", "0x1234", "0x11e8", "0x00ff00", null, null)
        .file("devices/pci0000:00/0000:00:05.0/driver_override", "vfio-pci\n")
        .file("devices/pci0000:00/0000:00:05.0/numa_node", "1\n");

    List<PciFunction> functions = new PciBus(Sysfs.of(dir)).functions();

    assertThat(functions)
        .extracting(f -> f.address().toString())
        .containsExactly("0000:00:04.0", "0000:00:05.0");
    PciFunction nvme = functions.get(1);
    assertThat(nvme.id()).isEqualTo(new PciId(0x1b36, 0x0010));
    assertThat(nvme.subsystem()).isEqualTo(new PciId(0x1af4, 0x1100));
    assertThat(nvme.classCode()).isEqualTo(PciClassCode.NVME);
    assertThat(nvme.revision()).isEqualTo(2);
    assertThat(nvme.driver()).contains("nvme");
    assertThat(nvme.driverOverride()).contains("vfio-pci");
    assertThat(nvme.iommuGroup()).hasValue(5);
    assertThat(nvme.numaNode()).hasValue(1);
    PciFunction edu = functions.get(0);
    assertThat(edu.driver()).isEmpty();
    assertThat(edu.driverOverride()).as("(null) means unset").isEmpty();
    assertThat(edu.iommuGroup()).isEmpty();
    assertThat(edu.numaNode()).as("-1 means none").isEmpty();
  }

  @Test
  void anAbsentFunctionIsAClearError() {
    new SysfsTreeFixture(dir);
    PciBus bus = new PciBus(Sysfs.of(dir));

    assertThat(bus.find(PciAddress.parse("00:09.0"))).isEmpty();
    assertThatThrownBy(() -> bus.function(PciAddress.parse("00:09.0")))
        .isInstanceOf(PciException.class)
        .hasMessageStartingWith("no PCI function 0000:00:09.0 in " + dir + "/bus/pci/devices");
  }

  @Test
  void selectOnePrefersTheFunctionOnTheWantedDriver() {
    new SysfsTreeFixture(dir)
        .function("0000:00:04.0", "0x1b36", "0x0010", "0x010802", "nvme", 4)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", 5)
        .function("0000:00:06.0", "0x1234", "0x11e8", "0x00ff00", null, 6);
    PciBus bus = new PciBus(Sysfs.of(dir));
    PciSelector nvme = PciSelector.any().withClass(PciClassCode.NVME);

    assertThat(bus.selectOne(nvme, "vfio-pci").address()).hasToString("0000:00:05.0");
    assertThat(bus.selectOne(nvme, "uio_pci_generic").address()).hasToString("0000:00:04.0");
    assertThat(bus.selectBound(nvme, "vfio-pci").address()).hasToString("0000:00:05.0");
    assertThatThrownBy(() -> bus.selectBound(nvme, "uio_pci_generic"))
        .as("never settles for a function on a host driver")
        .isInstanceOf(PciFunctionNotFoundException.class)
        .hasMessage(
            "no PCI function matching class 0x010802 is bound to uio_pci_generic (candidates:"
                + " 0000:00:04.0 on nvme; 0000:00:05.0 on vfio-pci); bind the one meant for this"
                + " use to uio_pci_generic first, as root: echo uio_pci_generic > "
                + dir.resolve("bus/pci/devices/0000:00:04.0/driver_override")
                + " && echo 0000:00:04.0 > "
                + dir.resolve("bus/pci/devices/0000:00:04.0/driver/unbind")
                + " && echo 0000:00:04.0 > "
                + dir.resolve("bus/pci/drivers_probe"));
    assertThatThrownBy(() -> bus.selectOne(PciSelector.any().withId(new PciId(8, 9)), "vfio-pci"))
        .isInstanceOf(PciException.class)
        .hasMessage(
            "no PCI function matches id 0008:0009 in "
                + dir
                + "/bus/pci/devices; present: 0000:00:04.0 1b36:0010 NVMe controller;"
                + " 0000:00:05.0 1b36:0010 NVMe controller; 0000:00:06.0 1234:11e8 Unclassified"
                + " device");
  }

  @Test
  void anAddressSelectorReadsOnlyItsFunction() {
    new SysfsTreeFixture(dir)
        .function("0000:00:04.0", "0x1b36", "0x0010", "0x010802", "nvme", 4)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", 5)
        .file("devices/pci0000:00/0000:00:05.0/vendor", "garbage\n");
    PciBus bus = new PciBus(Sysfs.of(dir));
    PciSelector first = PciSelector.any().withAddress(PciAddress.parse("00:04.0"));

    assertThat(bus.selectOne(first, "vfio-pci").address())
        .as("the malformed function beside it is never read")
        .hasToString("0000:00:04.0");
    assertThatThrownBy(() -> bus.selectOne(first.withId(new PciId(8, 9)), "vfio-pci"))
        .as("another criterion that rules it out still reads the bus for the message")
        .isInstanceOf(PciException.class)
        .hasMessageContaining("0000:00:05.0/vendor");
  }

  @Test
  void aScanReportsWhatItCannotReadAndListsTheRest() throws IOException {
    new SysfsTreeFixture(dir)
        .function("0000:00:04.0", "0x1b36", "0x0010", "0x010802", "nvme", 4)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "vfio-pci", 5)
        .function("0000:00:06.0", "0x1234", "0x11e8", "0x00ff00", null, 6)
        .file("devices/pci0000:00/0000:00:05.0/vendor", "garbage\n");
    Files.delete(dir.resolve("devices/pci0000:00/0000:00:06.0/class"));
    // Listed, then gone: what a function unplugged during the scan looks like.
    Files.createSymbolicLink(
        dir.resolve("bus/pci/devices/0000:00:07.0"), Path.of("../../../devices/pci0000:00/gone"));
    PciBus bus = new PciBus(Sysfs.of(dir));

    PciScan scan = bus.scan();

    assertThat(scan.functions())
        .extracting(f -> f.address().toString())
        .containsExactly("0000:00:04.0");
    assertThat(scan.isComplete()).isFalse();
    assertThat(scan.problems())
        .extracting(PciScan.Problem::name, PciScan.Problem::kind)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("0000:00:05.0", PciScan.Kind.MALFORMED),
            org.assertj.core.groups.Tuple.tuple("0000:00:06.0", PciScan.Kind.MALFORMED),
            org.assertj.core.groups.Tuple.tuple("0000:00:07.0", PciScan.Kind.VANISHED));
    assertThat(scan.problems().get(0).detail())
        .isEqualTo(
            "unexpected content \"garbage\" in "
                + dir.resolve("bus/pci/devices/0000:00:05.0/vendor")
                + ": expected a hexadecimal number from 0 to 0xffff");
    assertThat(scan.problems().get(1).detail()).contains("0000:00:06.0/class");
    assertThat(scan.problems().get(2)).hasToString("0000:00:07.0: removed while it was being read");
    assertThatThrownBy(bus::functions)
        .as("the strict read still refuses the malformed function")
        .isInstanceOf(PciException.class)
        .hasMessageContaining("0000:00:05.0/vendor");
  }

  @Test
  void aTreeWithoutPciDevicesIsNotSysfs() {
    PciBus bus = new PciBus(Sysfs.of(dir));

    assertThatThrownBy(bus::functions)
        .isInstanceOf(PciException.class)
        .hasMessage(
            "no bus/pci/devices under " + dir + ": not a sysfs tree (expected the layout of /sys)");
  }

  @Test
  void malformedAttributesNameTheFile() {
    new SysfsTreeFixture(dir)
        .function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "nvme", 5)
        .file("devices/pci0000:00/0000:00:05.0/vendor", "garbage\n");

    assertThatThrownBy(() -> new PciBus(Sysfs.of(dir)).functions())
        .isInstanceOf(PciException.class)
        .hasMessageContaining("unexpected content \"garbage\"")
        .hasMessageContaining("0000:00:05.0/vendor");
  }

  @Test
  void outOfRangeAttributesAreReportedNotThrownAsBugs() {
    new SysfsTreeFixture(dir).function("0000:00:05.0", "0x12345", "0x0010", "0x010802", "nvme", 5);

    assertThatThrownBy(() -> new PciBus(Sysfs.of(dir)).functions())
        .isInstanceOf(PciException.class)
        .hasMessageEndingWith(
            "0000:00:05.0/vendor: expected a hexadecimal number from 0 to 0xffff");
  }

  @Test
  void scanOfThisMachineMatchesWhatTheKernelLists() throws IOException {
    Path devices = Path.of("/sys/bus/pci/devices");
    assumeTrue(Files.isDirectory(devices), "no /sys/bus/pci/devices on this machine");

    List<PciFunction> functions = new PciBus(Sysfs.system()).functions();

    try (Stream<Path> entries = Files.list(devices)) {
      assertThat(functions)
          .extracting(f -> f.address().toString())
          .containsExactlyInAnyOrderElementsOf(
              entries.map(p -> p.getFileName().toString()).toList());
    }
    for (PciFunction f : functions) {
      Path link = devices.resolve(f.address().toString()).resolve("driver");
      Optional<String> kernelDriver =
          Files.isSymbolicLink(link)
              ? Optional.of(Files.readSymbolicLink(link).getFileName().toString())
              : Optional.empty();
      assertThat(f.driver()).as("driver of %s", f.address()).isEqualTo(kernelDriver);
      String vendor = Files.readString(devices.resolve(f.address() + "/vendor")).strip();
      assertThat(f.id().vendor()).isEqualTo(Integer.decode(vendor));
      Path group = devices.resolve(f.address() + "/iommu_group");
      assertThat(f.iommuGroup())
          .isEqualTo(
              Files.isSymbolicLink(group)
                  ? OptionalInt.of(
                      Integer.parseInt(Files.readSymbolicLink(group).getFileName().toString()))
                  : OptionalInt.empty());
    }
  }
}
