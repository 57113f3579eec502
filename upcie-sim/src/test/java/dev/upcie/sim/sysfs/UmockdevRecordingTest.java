package dev.upcie.sim.sysfs;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.sim.sysfs.UmockdevRecording.DeviceNode;
import dev.upcie.sim.sysfs.UmockdevRecording.RecordedDevice;
import dev.upcie.support.UpcieException;
import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UmockdevRecordingTest {
  private static final String NVME = "/devices/pci0000:00/0000:00:05.0";
  private static final String EDU = "/devices/pci0000:00/0000:00:06.0";
  private static final String DEVICE = "P: /devices/pci0000:00/0000:00:05.0\nE: SUBSYSTEM=pci\n";

  /** The real recordings, copied from the project's shared data into the test resources. */
  private static Path recording(String name) {
    URL url = UmockdevRecordingTest.class.getResource("/sysfs/" + name + ".umockdev");
    assertThat(url).as("test resource sysfs/%s.umockdev", name).isNotNull();
    try {
      return Path.of(url.toURI());
    } catch (URISyntaxException e) {
      throw new AssertionError(e);
    }
  }

  private static RecordedDevice device(List<RecordedDevice> devices, String path) {
    return devices.stream()
        .filter(d -> d.path().equals(path))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no device " + path));
  }

  private static String text(RecordedDevice device, String attribute) {
    return new String(device.attribute(attribute).orElseThrow(), UTF_8);
  }

  private static RecordedDevice only(String text) {
    List<RecordedDevice> devices = UmockdevRecording.parse("test.umockdev", text);
    assertThat(devices).hasSize(1);
    return devices.getFirst();
  }

  private static void rejects(String text, String message) {
    assertThatThrownBy(() -> UmockdevRecording.parse("test.umockdev", text))
        .isInstanceOf(UpcieException.class)
        .hasMessage(message);
  }

  @ParameterizedTest
  @CsvSource({
    "qemu-q35-iommu-nvme-edu, 10, 0000:00:1f.3",
    "qemu-q35-iommu-vfio,     10, 0000:00:1f.3",
    "microvm-virtio-host,      6, 0000:00:05.0"
  })
  void readsEveryFunctionOfTheRealRecordingsInFileOrder(String name, int count, String last) {
    List<RecordedDevice> devices = UmockdevRecording.read(recording(name));

    assertThat(devices).hasSize(count);
    assertThat(devices.getFirst().path()).isEqualTo("/devices/pci0000:00/0000:00:00.0");
    assertThat(devices.getLast().path()).isEqualTo("/devices/pci0000:00/" + last);
    assertThat(devices).allSatisfy(d -> assertThat(d.subsystem()).isEqualTo("pci"));
    assertThat(devices)
        .allSatisfy(d ->
            assertThat(d.properties())
                .containsEntry("PCI_SLOT_NAME", d.path().substring(d.path().lastIndexOf('/') + 1)));
  }

  @Test
  void decodesTheNvmeFunctionOfTheQ35Recording() {
    RecordedDevice nvme =
        device(UmockdevRecording.read(recording("qemu-q35-iommu-nvme-edu")), NVME);

    assertThat(nvme.links())
        .containsEntry("driver", "../../../bus/pci/drivers/nvme")
        .containsEntry("iommu_group", "../../../kernel/iommu_groups/5")
        .containsEntry("iommu", "../../virtual/iommu/dmar0");
    assertThat(nvme.properties())
        .containsEntry("PCI_SLOT_NAME", "0000:00:05.0")
        .containsEntry("PCI_ID", "1B36:0010")
        .containsEntry("DRIVER", "nvme");
    // In file order: umockdev-record sorts the properties, so DRIVER comes first and SUBSYSTEM
    // last.
    assertThat(nvme.properties().keySet()).first().isEqualTo("DRIVER");
    assertThat(nvme.properties().keySet()).last().isEqualTo("SUBSYSTEM");
    assertThat(nvme.attribute("vendor"))
        .hasValueSatisfying(v -> assertThat(v).isEqualTo("0x1b36\n".getBytes(US_ASCII)));
    assertThat(text(nvme, "device")).isEqualTo("0x0010\n");
    assertThat(text(nvme, "class")).isEqualTo("0x010802\n");
    assertThat(nvme.node()).isEmpty();
  }

  @Test
  void decodesTheHexConfigSpace() {
    RecordedDevice nvme =
        device(UmockdevRecording.read(recording("qemu-q35-iommu-nvme-edu")), NVME);
    byte[] config = nvme.attribute("config").orElseThrow();

    // A PCIe function: the full 4 KiB extended space, little-endian registers.
    assertThat(config).hasSize(4096);
    assertThat(HexFormat.of().formatHex(config, 0, 12)).isEqualTo("361b10000705100002020801");
    int classCode = (config[11] & 0xff) << 16 | (config[10] & 0xff) << 8 | config[9] & 0xff;
    assertThat(classCode).isEqualTo(0x010802);
    // A conventional PCI function has only the 256-byte header.
    RecordedDevice edu = device(UmockdevRecording.read(recording("qemu-q35-iommu-nvme-edu")), EDU);
    assertThat(edu.attribute("config").orElseThrow())
        .hasSize(256)
        .startsWith(0x34, 0x12, 0xe8, 0x11);
  }

  @Test
  void keysAttributesOfSubdirectoriesByTheirRelativePath() {
    RecordedDevice nvme =
        device(UmockdevRecording.read(recording("qemu-q35-iommu-nvme-edu")), NVME);

    assertThat(text(nvme, "power/control")).isEqualTo("on\n");
    assertThat(text(nvme, "power/runtime_status")).isEqualTo("active\n");
    assertThat(nvme.attributes()).doesNotContainKey("control").doesNotContainKey("power");
  }

  @Test
  void unescapesMultiLineTextAttributes() {
    RecordedDevice nvme =
        device(UmockdevRecording.read(recording("qemu-q35-iommu-nvme-edu")), NVME);

    List<String> resource = text(nvme, "resource").lines().toList();
    assertThat(resource).hasSize(13);
    assertThat(resource.getFirst())
        .isEqualTo("0x00000000feb94000 0x00000000feb97fff 0x0000000000140204");
    assertThat(text(nvme, "pools")).startsWith("poolinfo - 0.1\nprp list 256 ").endsWith("0\n");
  }

  @Test
  void seesTheBindingsOfEachRecording() {
    List<RecordedDevice> before = UmockdevRecording.read(recording("qemu-q35-iommu-nvme-edu"));
    List<RecordedDevice> after = UmockdevRecording.read(recording("qemu-q35-iommu-vfio"));
    List<RecordedDevice> microvm = UmockdevRecording.read(recording("microvm-virtio-host"));

    assertThat(device(before, EDU).links()).doesNotContainKey("driver");
    assertThat(device(after, NVME).links())
        .containsEntry("driver", "../../../bus/pci/drivers/vfio-pci");
    assertThat(device(after, EDU).links())
        .containsEntry("driver", "../../../bus/pci/drivers/vfio-pci")
        .containsEntry("iommu_group", "../../../kernel/iommu_groups/6");
    assertThat(microvm).noneSatisfy(d -> assertThat(d.links()).containsKey("iommu_group"));
    assertThat(microvm.subList(1, 6))
        .allSatisfy(d ->
            assertThat(d.links()).containsEntry("driver", "../../../bus/pci/drivers/virtio-pci"));
    assertThat(text(microvm.getFirst(), "vendor")).isEqualTo("0x8086\n");
    assertThat(text(microvm.getFirst(), "device")).isEqualTo("0x0d57\n");
  }

  @Test
  void readGivesWhatParseGivesForTheFilesText() throws IOException {
    Path file = recording("qemu-q35-iommu-vfio");

    assertThat(UmockdevRecording.read(file))
        .isEqualTo(UmockdevRecording.parse("x", Files.readString(file)));
  }

  @Test
  void undoesGlibEscapes() {
    RecordedDevice device =
        only(
            DEVICE
                + "A: a=\\n\\t\\r\\b\\f\\v\\\\\\\"x\nA: octal=\\101\\0123\\7\\377\nA: utf8=\u00e9\n");

    assertThat(device.attribute("a").orElseThrow())
        .containsExactly('\n', '\t', '\r', '\b', '\f', 0x0b, '\\', '"', 'x');
    // One to three octal digits, as g_strcompress reads them: \0123 is \012 then '3'.
    assertThat(device.attribute("octal").orElseThrow())
        .containsExactly(0x41, 0x0a, '3', 0x07, 0xff);
    assertThat(device.attribute("utf8").orElseThrow()).containsExactly(0xc3, 0xa9);
  }

  @Test
  void keepsValuesAsWrittenAfterTheFirstEquals() {
    RecordedDevice device =
        only(DEVICE + "E: KEY=a=b\nA: empty=\nA: spaced=  x  \nH: nothing=\nH: lower=ab0f\n");

    assertThat(device.properties()).containsEntry("KEY", "a=b");
    assertThat(device.attribute("empty").orElseThrow()).isEmpty();
    assertThat(text(device, "spaced")).isEqualTo("  x  ");
    assertThat(device.attribute("nothing").orElseThrow()).isEmpty();
    assertThat(device.attribute("lower").orElseThrow()).containsExactly(0xab, 0x0f);
  }

  @Test
  void readsDeviceNodesAndTheirLinks() {
    RecordedDevice plain = only(DEVICE + "N: vfio/5\nS: vfio/by-slot/0000:00:05.0\nS: upcie\n");
    RecordedDevice filled = only(DEVICE + "N: bus/usb/001/002=0A0B\n");

    assertThat(plain.node())
        .contains(
            new DeviceNode("vfio/5", new byte[0], List.of("vfio/by-slot/0000:00:05.0", "upcie")));
    assertThat(filled.node().orElseThrow().name()).isEqualTo("bus/usb/001/002");
    assertThat(filled.node().orElseThrow().contents()).containsExactly(0x0a, 0x0b);
    assertThat(filled.node().orElseThrow().links()).isEmpty();
  }

  @Test
  void leavesTheSelinuxLabelOutOfTheProperties() {
    RecordedDevice device =
        only(DEVICE + "N: vfio/5\nE: __DEVCONTEXT=system_u:object_r:vfio_device_t:s0\n");

    assertThat(device.properties()).containsOnlyKeys("SUBSYSTEM");
    assertThat(device.node()).isPresent();
  }

  @Test
  void separatesDevicesByAnyNumberOfBlankLines() {
    String second = "P: /devices/pci0000:00/0000:00:06.0\nE: SUBSYSTEM=pci\nA: vendor=0x1234";

    assertThat(UmockdevRecording.parse("t", DEVICE + "\n\n\n" + second + "\n\n"))
        .extracting(RecordedDevice::path)
        .containsExactly(NVME, EDU);
    // The last line needs no newline.
    assertThat(text(UmockdevRecording.parse("t", DEVICE + "\n" + second).getLast(), "vendor"))
        .isEqualTo("0x1234");
    assertThat(UmockdevRecording.parse("t", "")).isEmpty();
  }

  @Test
  void protectsItsBytesAndMaps() {
    RecordedDevice device = only(DEVICE + "A: vendor=0x1b36\\n\nN: x=00FF\n");

    device.attribute("vendor").orElseThrow()[0] = 'X';
    device.attributes().get("vendor")[1] = 'X';
    device.node().orElseThrow().contents()[0] = 1;
    assertThat(text(device, "vendor")).isEqualTo("0x1b36\n");
    assertThat(device.node().orElseThrow().contents()).containsExactly(0x00, 0xff);
    assertThatThrownBy(() -> device.attributes().put("x", new byte[0]))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> device.properties().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);
    assertThatThrownBy(() -> device.links().put("x", "y"))
        .isInstanceOf(UnsupportedOperationException.class);

    byte[] given = {1, 2};
    RecordedDevice built =
        new RecordedDevice(NVME, Map.of(), Map.of("a", given), Map.of(), Optional.empty());
    given[0] = 9;
    assertThat(built.attribute("a").orElseThrow()).containsExactly(1, 2);
  }

  @Test
  void comparesBytesByContentAndPrintsNoValues() {
    String text = DEVICE + "H: config=8680C029\nN: x=00FF\n";

    assertThat(only(text)).isEqualTo(only(text)).hasSameHashCodeAs(only(text));
    assertThat(only(text)).isNotEqualTo(only(DEVICE + "H: config=8680C02A\nN: x=00FF\n"));
    assertThat(only(text)).isNotEqualTo(only(DEVICE + "H: config=8680C029\nN: x=00FE\n"));
    assertThat(only(text).toString())
        .isEqualTo("RecordedDevice[" + NVME + ", 1 properties, 1 attributes, 0 links, node x]");
  }

  @Test
  void rejectsLinesOutsideADevice() {
    rejects(
        "A: vendor=0x1b36\\n\n",
        "test.umockdev:1: an A: line outside a device (expected a P: line first)");
    rejects(
        DEVICE + "\nE: SUBSYSTEM=pci\n",
        "test.umockdev:4: an E: line outside a device (expected a P: line first)");
    rejects(
        "\n" + DEVICE,
        "test.umockdev:1: a blank line before the first device (the file must start with a P:"
            + " line)");
    rejects(
        DEVICE + "P: /devices/pci0000:00/0000:00:06.0\n",
        "test.umockdev:3: a second P: line in the description of "
            + NVME
            + " (line 1); devices are separated by a blank line");
  }

  @Test
  void rejectsLinesThatAreNotTypeColonSpaceValue() {
    rejects(
        DEVICE + "X: what=ever\n",
        "test.umockdev:3: unknown line type \"X:\" (umockdev knows P: E: A: H: L: N: S:)");
    rejects(
        DEVICE + "A:vendor=0x1b36\n",
        "test.umockdev:3: expected a type letter, a colon and a space (one of P: E: A: H: L: N:"
            + " S:), found \"A:vendor=0x1b36\"");
    rejects(
        DEVICE + "# a comment\n",
        "test.umockdev:3: expected a type letter, a colon and a space (one of P: E: A: H: L: N:"
            + " S:), found \"# a comment\"");
    rejects(
        DEVICE + "  \n",
        "test.umockdev:3: expected a type letter, a colon and a space (one of P: E: A: H: L: N:"
            + " S:), found \"  \"");
    rejects(
        "P: /devices/x\r\nE: SUBSYSTEM=pci\r\n",
        "test.umockdev:1: a carriage return (CRLF line ends?) at column 14");
    rejects(DEVICE + "A: a=x\0y\n", "test.umockdev:3: a NUL character at column 7");
  }

  @Test
  void rejectsMalformedNamesAndValues() {
    rejects(
        DEVICE + "A: vendor\n",
        "test.umockdev:3: expected NAME=VALUE after \"A: \", found \"vendor\"");
    rejects(DEVICE + "E: =pci\n", "test.umockdev:3: an empty name before '=' in the E: line");
    rejects(
        DEVICE + "L: driver=\n",
        "test.umockdev:3: the L: line for \"driver\" has no target after '='");
    rejects(
        DEVICE + "A: ../../vendor=1\n",
        "test.umockdev:3: the A: name \"../../vendor\" has an empty, \".\" or \"..\" segment; it"
            + " must name a place below its directory");
    rejects(
        DEVICE + "H: /config=00\n",
        "test.umockdev:3: the H: name \"/config\" has an empty, \".\" or \"..\" segment; it must"
            + " name a place below its directory");
    rejects(
        "P: /sys/devices/x\nE: SUBSYSTEM=pci\n",
        "test.umockdev:1: the device path \"/sys/devices/x\" does not start with /devices/");
  }

  @Test
  void rejectsBadHex() {
    rejects(
        DEVICE + "H: config=8680C\n",
        "test.umockdev:3: an odd number of hex digits (5) in the value of config; each byte is two"
            + " digits");
    rejects(
        DEVICE + "H: config=86G0\n",
        "test.umockdev:3: \"G\" at position 3 of the value of config is not a hex digit");
    rejects(
        DEVICE + "N: x=0a\n",
        "test.umockdev:3: the contents of the node x must be upper-case hex digits after '=',"
            + " found \"0a\"");
    rejects(
        DEVICE + "N: x=\n",
        "test.umockdev:3: the contents of the node x must be upper-case hex digits after '=',"
            + " found \"\"");
  }

  @Test
  void rejectsBadEscapes() {
    rejects(
        DEVICE + "A: vendor=\\x41\n",
        "test.umockdev:3: an unknown escape \\x in the value of vendor (the escapes are \\n \\t \\r"
            + " \\b \\f \\v \\\\ \\\" and octal \\ooo)");
    rejects(
        DEVICE + "A: vendor=0x1b36\\\n",
        "test.umockdev:3: a backslash at the end of the value of vendor (write \\\\)");
    rejects(
        DEVICE + "A: vendor=a\\000b\n",
        "test.umockdev:3: the escape \\000 in the value of vendor is a NUL byte, which would end"
            + " the value there (record binary values as H:)");
    rejects(
        DEVICE + "A: vendor=\\400\n",
        "test.umockdev:3: the octal escape \\400 in the value of vendor is above \\377");
  }

  @Test
  void rejectsWhatWouldBeOverwritten() {
    rejects(
        DEVICE + "A: vendor=1\nA: vendor=2\n",
        "test.umockdev:4: vendor was already recorded on line 3");
    rejects(
        DEVICE + "A: driver=1\nL: driver=../x\n",
        "test.umockdev:4: driver was already recorded on line 3");
    rejects(
        DEVICE + "E: SUBSYSTEM=pci\n",
        "test.umockdev:3: the property SUBSYSTEM was already set on line 2");
    rejects(DEVICE + "N: a\nN: b\n", "test.umockdev:4: a second N: line (the first is on line 3)");
    rejects(
        DEVICE + "E: __DEVCONTEXT=a\nE: __DEVCONTEXT=b\n",
        "test.umockdev:4: a second __DEVCONTEXT (line 3)");
    rejects(
        DEVICE + "\n" + DEVICE, "test.umockdev:4: " + NVME + " was already described on line 1");
  }

  @Test
  void rejectsIncompleteDevices() {
    rejects(
        "P: /devices/a\nE: SUBSYSTEM=pci\n\nP: /devices/b\nA: vendor=1\n",
        "test.umockdev:4: the device /devices/b has no E: SUBSYSTEM= line (umockdev needs it to"
            + " link the device under /sys/bus or /sys/class)");
    rejects(
        DEVICE + "S: disk/by-id/x\n",
        "test.umockdev:1: the device " + NVME + " has S: lines but no N: line for them to name");
  }

  @Test
  void namesTheFileItCannotRead(@TempDir Path dir) throws IOException {
    Path missing = dir.resolve("missing.umockdev");
    assertThatThrownBy(() -> UmockdevRecording.read(missing))
        .isInstanceOf(UpcieException.class)
        .hasMessageStartingWith("cannot read the umockdev recording " + missing + ": ");

    Path latin1 = dir.resolve("latin1.umockdev");
    Files.write(
        latin1,
        (DEVICE + "A: name=caf\u00e9\n").getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    assertThatThrownBy(() -> UmockdevRecording.read(latin1))
        .isInstanceOf(UpcieException.class)
        .hasMessage(latin1 + ":3: not UTF-8 text (at byte offset 64)");
  }
}
