package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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
