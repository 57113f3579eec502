package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Names come from the right vendor's block, device's block, and never from the class section. */
class PciIdsTest {
  private static final String DATABASE =
      """
      # pci.ids excerpt
      1234  Technical Corp.
      \t11e8  Edu device
      # a comment inside a vendor
      1b36  Red Hat, Inc.
      \t0001  QEMU PCI-PCI bridge
      \t0010  QEMU NVM Express Controller
      \t\t1af4 1100  QEMU Virtual Machine
      \t0011  QEMU PVPanic device
      8086  Intel Corporation
      \t0010  Not the QEMU one
      \t\t1af4 1100  Not this subsystem either
      C 01  Mass storage controller
      \t08  Non-Volatile memory controller
      0010  A line of the class section that is not a vendor
      """;

  @Test
  void namesVendorsDevicesAndSubsystems(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("pci.ids");
    Files.writeString(file, DATABASE);
    PciIds ids = PciIds.load(file);
    PciId nvme = PciId.parse("1b36:0010");

    assertThat(ids.vendor(0x1b36)).hasValue("Red Hat, Inc.");
    assertThat(ids.device(nvme)).hasValue("QEMU NVM Express Controller");
    assertThat(ids.device(PciId.parse("1234:11e8"))).hasValue("Edu device");
    assertThat(ids.subsystem(nvme, PciId.parse("1af4:1100"))).hasValue("QEMU Virtual Machine");
    assertThat(ids.subsystem(PciId.parse("1b36:0011"), PciId.parse("1af4:1100")))
        .as("a subsystem of another device of the vendor")
        .isEmpty();
    assertThat(ids.device(PciId.parse("1b36:0002"))).isEmpty();
    assertThat(ids.vendor(0x0010)).as("not from the class section").isEmpty();
    assertThat(PciIds.load(dir.resolve("absent")).vendor(0x1b36)).isEmpty();
  }

  @Test
  void findsEveryVendorOfALargeFileInOrderOrNotAndDecodesUtf8(@TempDir Path dir) throws Exception {
    // Vendors with blocks of every size, so the binary search lands inside long and short ones.
    StringBuilder sorted = new StringBuilder("# header\n");
    for (int vendor = 0x1000; vendor < 0x1400; vendor += 3) {
      sorted.append(String.format("%04x  Vendor %04x\n", vendor, vendor));
      for (int device = 0; device < vendor % 50; device++) {
        sorted.append(String.format("\t%04x  Device %04x of %04x\n", device, device, vendor));
      }
    }
    sorted.append("1400  Caf\u00e9 \u2122 GmbH\n\t0001  Ger\u00e4t\nC 00  Unclassified device\n");
    Path inOrder = dir.resolve("sorted.ids");
    Files.writeString(inOrder, sorted);
    // The same lines, one vendor moved to the front: the file is out of order.
    String text = sorted.toString();
    int moved = text.indexOf("1234  Vendor 1234");
    int end = text.indexOf("\n12", moved + 1);
    Path outOfOrder = dir.resolve("unsorted.ids");
    Files.writeString(
        outOfOrder,
        text.substring(moved, end + 1) + text.substring(0, moved) + text.substring(end + 1));

    for (Path file : List.of(inOrder, outOfOrder)) {
      PciIds ids = PciIds.load(file);
      for (int vendor = 0x1000; vendor < 0x1400; vendor += 3) {
        assertThat(ids.vendor(vendor))
            .as("%s: %04x", file, vendor)
            .hasValue(String.format("Vendor %04x", vendor));
      }
      assertThat(ids.device(new PciId(0x1234, 0x0007))).hasValue("Device 0007 of 1234");
      assertThat(ids.vendor(0x1001)).as("not listed").isEmpty();
      assertThat(ids.vendor(0x1400)).hasValue("Caf\u00e9 \u2122 GmbH");
      assertThat(ids.device(new PciId(0x1400, 0x0001))).hasValue("Ger\u00e4t");
    }
  }

  @Test
  void theInstalledDatabaseNamesQemusController() {
    boolean installed = PciIds.LOCATIONS.stream().anyMatch(Files::isReadable);
    if (!Boolean.getBoolean("upcie.ci")) {
      assumeTrue(installed, "no pci.ids installed (Debian package pci.ids)");
    }
    assertThat(installed).as("pci.ids (Debian package pci.ids, which pciutils pulls in)").isTrue();

    assertThat(PciIds.system().device(PciId.parse("1b36:0010")))
        .hasValue("QEMU NVM Express Controller");
  }
}
