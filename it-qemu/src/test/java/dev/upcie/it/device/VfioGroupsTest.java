package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.junit.PciDevice;
import dev.upcie.pci.PciConfigRegisters;
import dev.upcie.pci.PciDeviceHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * VFIO's sharing rules, in the guest with the IOMMU on: functions in different IOMMU groups opened
 * in one process share the process's one container, and functions of one group (the ICH9 SATA and
 * SMBus functions at 00:1f.x share group 7) share the group and are open together.
 *
 * <p>Guest only, and VFIO only: containers and groups are what VFIO is made of.
 */
@Tag(GuestRun.GUEST_ONLY)
public class VfioGroupsTest {

  @Test
  void twoDevicesOfOneProcessShareOneContainer(
      @PciDevice(id = "1b36:0010") PciDeviceHandle nvme,
      @PciDevice(id = "1234:11e8") PciDeviceHandle edu) {
    assertThat(nvme.backend()).isEqualTo("vfio");
    assertThat(edu.backend()).isEqualTo("vfio");
    assertThat(nvme.function().iommuGroup()).isNotEqualTo(edu.function().iommuGroup());

    assertThat(openDescriptorsOf("/dev/vfio/vfio")).as("containers open").hasSize(1);
    assertThat(nvme.bar(0).getIntVolatile(0x08)).as("NVMe VS").isEqualTo(0x00010400);
    assertThat(edu.bar(0).getIntVolatile(0x00)).as("edu ID").isEqualTo(0x010000ed);
  }

  @Test
  void twoFunctionsOfOneGroupAreOpenTogether(
      @PciDevice(address = "00:1f.2") PciDeviceHandle sata,
      @PciDevice(address = "00:1f.3") PciDeviceHandle smbus) {
    int group = sata.function().iommuGroup().getAsInt();
    assertThat(smbus.function().iommuGroup()).hasValue(group);

    assertThat(openDescriptorsOf("/dev/vfio/" + group)).as("the group, open once").hasSize(1);
    assertThat(openDescriptorsOf("/dev/vfio/vfio")).as("containers open").hasSize(1);
    assertThat(sata.config().read(PciConfigRegisters.DEVICE_ID)).isEqualTo(0x2922);
    assertThat(smbus.config().read(PciConfigRegisters.DEVICE_ID)).isEqualTo(0x2930);
  }

  private static List<Path> openDescriptorsOf(String node) {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.filter(
              fd -> {
                try {
                  return Files.readSymbolicLink(fd).toString().equals(node);
                } catch (IOException e) {
                  return false;
                }
              })
          .toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
