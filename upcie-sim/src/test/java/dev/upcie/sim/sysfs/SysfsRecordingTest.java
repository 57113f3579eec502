package dev.upcie.sim.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciFunction;
import dev.upcie.support.UpcieException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The three recordings of ../shared/data/sysfs load as machines that list what was recorded. */
class SysfsRecordingTest {

  static Path recording(String name) {
    try {
      return Path.of(SysfsRecordingTest.class.getResource("/sysfs/" + name + ".umockdev").toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"qemu-q35-iommu-nvme-edu", "qemu-q35-iommu-vfio", "microvm-virtio-host"})
  void eachRecordingListsWhatWasRecorded(String name) throws Exception {
    Path file = recording(name);
    SysfsRecording recording = SysfsRecording.load(file);
    List<String> recorded =
        Files.readAllLines(file).stream()
            .filter(l -> l.startsWith("P: "))
            .map(l -> l.substring(l.lastIndexOf('/') + 1))
            .toList();

    SimSysfs sysfs = recording.build();
    List<PciFunction> functions = new PciBus(sysfs).functions();
    assertThat(functions)
        .extracting(f -> f.address().toString())
        .containsExactlyElementsOf(recorded);
    for (PciFunction f : functions) {
      String dir = "bus/pci/devices/" + f.address();
      String driverLine = "L: driver=../../../bus/pci/drivers/" + f.driver().orElse("?");
      assertThat(sysfs.readBytes(dir + "/config"))
          .as("config of %s", f.address())
          .hasSizeGreaterThanOrEqualTo(64);
      assertThat(Files.readString(file).contains(driverLine) || f.driver().isEmpty()).isTrue();
    }
    assertThat(recording.defaults()).anyMatch(d -> d.startsWith("hugepage pools"));
  }

  private static int recordedConfigLength(Path file, PciAddress address) throws Exception {
    List<String> lines = Files.readAllLines(file);
    int at = lines.indexOf("P: /devices/pci0000:00/" + address);
    for (String line : lines.subList(at, lines.size())) {
      if (line.startsWith("H: config=")) {
        return (line.length() - "H: config=".length()) / 2;
      }
    }
    throw new AssertionError("no config recorded for " + address);
  }

  @Test
  void theQemuGuestKeepsItsDriversGroupsAndBars() {
    SimSysfs sysfs = SysfsRecording.load(recording("qemu-q35-iommu-nvme-edu")).build();
    PciBus bus = new PciBus(sysfs);

    assertThat(bus.functions())
        .extracting(
            f -> f.address().toString(),
            f -> f.driver().orElse("-"),
            f -> f.iommuGroup().getAsInt())
        .contains(
            tuple("0000:00:03.0", "virtio-pci", 3),
            tuple("0000:00:05.0", "nvme", 5),
            tuple("0000:00:06.0", "-", 6),
            tuple("0000:00:1f.2", "-", 7));
    assertThat(sysfs.list("kernel/iommu_groups/7/devices"))
        .containsExactly("0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3");
    assertThat(sysfs.list("bus/pci/devices/0000:00:05.0"))
        .contains("resource0", "remove", "rescan", "nvme")
        .as("no model behind it, so no reset method")
        .doesNotContain("resource1", "reset");
    assertThat(sysfs.list("class/nvme")).containsExactly("nvme0");
  }

  @Test
  void bindingAsTheGuestDidGivesWhatTheGuestRecordedAfterwards() {
    // The vfio recording was made after exactly these stores, in the same QEMU guest.
    SimSysfs sysfs = SysfsRecording.load(recording("qemu-q35-iommu-nvme-edu")).build();
    for (String function : List.of("0000:00:05.0", "0000:00:06.0")) {
      sysfs.write("bus/pci/devices/" + function + "/driver_override", "vfio-pci");
      if (new PciBus(sysfs).function(PciAddress.parse(function)).driver().isPresent()) {
        sysfs.write("bus/pci/devices/" + function + "/driver/unbind", function);
      }
      sysfs.write("bus/pci/drivers_probe", function);
    }
    SimSysfs after = SysfsRecording.load(recording("qemu-q35-iommu-vfio")).build();

    assertThat(new PciBus(sysfs).functions())
        .extracting(f -> f.address(), f -> f.driver(), f -> f.iommuGroup())
        .containsExactlyElementsOf(
            new PciBus(after)
                .functions().stream()
                    .map(f -> tuple(f.address(), f.driver(), f.iommuGroup()))
                    .toList());
  }

  @Test
  void aMachineWithoutIommuHasNoGroups() {
    SysfsRecording recording = SysfsRecording.load(recording("microvm-virtio-host"));
    PciBus bus = new PciBus(recording.build());

    assertThat(bus.functions()).allMatch(f -> f.iommuGroup().isEmpty());
    assertThat(bus.functions())
        .filteredOn(f -> f.driver().isPresent())
        .hasSize(5)
        .allMatch(f -> f.isBoundTo("virtio-pci"));
    assertThat(recording.defaults())
        .contains(
            "driver vfio-pci loaded, though no function was bound to it",
            "driver uio_pci_generic loaded, though no function was bound to it");
  }

  @Test
  void recordedNumaNodesCarryThePoolsThatCanGrowByTheirFreeMemory() throws Exception {
    // Recorded on this project's machine kind: umockdev-record /sys/bus/pci/devices/*
    // /sys/devices/system/node/node0.
    Path file = recording("cloud-vm-pci-and-node");
    SysfsRecording recording = SysfsRecording.load(file);
    SimSysfs sysfs = recording.build();
    long memFreeKb =
        Long.parseLong(
            Files.readAllLines(file).stream()
                .filter(l -> l.startsWith("A: meminfo="))
                .findFirst()
                .orElseThrow()
                .replaceAll(".*Node 0 MemFree: +([0-9]+) kB.*", "$1"));
    String node0 = "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages";

    assertThat(recording.functions()).hasSize(6);
    assertThat(recording.defaults()).anyMatch(d -> d.contains("recorded nodes [0]"));
    assertThat(sysfs.readAttribute(node0)).isEqualTo("0");
    sysfs.write(node0, Long.toString(Long.MAX_VALUE / 4096));
    assertThat(Long.parseLong(sysfs.readAttribute(node0)))
        .as("as many 2M pages as the node had free memory")
        .isEqualTo(memFreeKb / 2048);
    assertThat(sysfs.exists("devices/system/node/node1")).isFalse();
  }

  @Test
  void removingABridgeRemovesWhatIsBehindItAndRescanBringsBothBack(@TempDir Path dir)
      throws Exception {
    Path file =
        Files.writeString(
            dir.resolve("bridge.umockdev"),
            function("/devices/pci0000:00/0000:00:1c.0", 0x8086, 0x2448, "060400", "pcieport", 3)
                + "\n"
                + function(
                    "/devices/pci0000:00/0000:00:1c.0/0000:01:00.0",
                    0x1b36,
                    0x0010,
                    "010802",
                    "nvme",
                    3));
    SimSysfs sysfs = SysfsRecording.load(file).build();
    PciBus bus = new PciBus(sysfs);
    PciAddress child = PciAddress.parse("0000:01:00.0");
    assertThat(bus.function(child).isBoundTo("nvme")).isTrue();

    sysfs.write("bus/pci/devices/0000:00:1c.0/remove", "1");
    assertThat(bus.functions()).isEmpty();
    assertThat(sysfs.list("bus/pci/drivers/nvme")).doesNotContain("0000:01:00.0");
    assertThat(sysfs.exists("kernel/iommu_groups/3")).isFalse();

    sysfs.write("bus/pci/rescan", "1");
    assertThat(bus.functions())
        .extracting(f -> f.address().toString(), f -> f.driver().orElse("-"))
        .containsExactly(tuple("0000:00:1c.0", "pcieport"), tuple("0000:01:00.0", "nvme"));
    assertThat(sysfs.readLink("bus/pci/devices/0000:01:00.0"))
        .contains("../../../devices/pci0000:00/0000:00:1c.0/0000:01:00.0");
  }

  /** A recorded function with a 256-byte config space, a 16 KiB BAR0 and the given driver. */
  private static String function(
      String path, int vendor, int device, String classCode, String driver, int group) {
    byte[] config = new byte[256];
    config[0] = (byte) vendor;
    config[1] = (byte) (vendor >> 8);
    config[2] = (byte) device;
    config[3] = (byte) (device >> 8);
    String depth = "../".repeat((int) path.chars().filter(c -> c == '/').count() - 1);
    return String.join(
        "\n",
        "P: " + path,
        "E: SUBSYSTEM=pci",
        "A: vendor=0x" + String.format("%04x", vendor) + "\\n",
        "A: device=0x" + String.format("%04x", device) + "\\n",
        "A: subsystem_vendor=0x1af4\\n",
        "A: subsystem_device=0x1100\\n",
        "A: class=0x" + classCode + "\\n",
        "A: revision=0x00\\n",
        "A: driver_override=(null)\\n",
        "A: numa_node=-1\\n",
        "A: resource=0x00000000fe000000 0x00000000fe003fff 0x0000000000040200\\n"
            + "0x0000000000000000 0x0000000000000000 0x0000000000000000\\n".repeat(12),
        "H: config=" + java.util.HexFormat.of().withUpperCase().formatHex(config),
        "L: driver=" + depth + "bus/pci/drivers/" + driver,
        "L: iommu_group=" + depth + "kernel/iommu_groups/" + group,
        "");
  }

  @Test
  void whatIsNotARecordingIsRefusedByName(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.umockdev"), "");
    Path block =
        Files.writeString(
            dir.resolve("block.umockdev"), "P: /devices/virtual/block/loop0\nE: SUBSYSTEM=block\n");

    assertThatThrownBy(() -> SysfsRecording.load(empty))
        .isInstanceOf(UpcieException.class)
        .hasMessageContaining(empty.toString())
        .hasMessageContaining("umockdev-record /sys/bus/pci/devices/*");
    assertThatThrownBy(() -> SysfsRecording.load(block))
        .hasMessageContaining("records no PCI function");
    assertThatThrownBy(() -> SysfsRecording.load(dir.resolve("absent.umockdev")))
        .isInstanceOf(UpcieException.class)
        .hasMessageContaining("absent.umockdev");
  }
}
