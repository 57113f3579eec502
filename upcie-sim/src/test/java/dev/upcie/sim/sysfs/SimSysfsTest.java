package dev.upcie.sim.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.errno.Errno;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciFunction;
import dev.upcie.sysfs.SysfsException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SimSysfsTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");

  private SimSysfs sysfs;
  private PciBus bus;

  @BeforeEach
  void machine() {
    sysfs = TwoFunctionMachine.build();
    bus = new PciBus(sysfs);
  }

  @Test
  void laysOutFunctionsWithTheKernelsAttributesAndLinks() {
    assertThat(sysfs.list("bus/pci/devices")).containsExactly("0000:00:05.0", "0000:00:06.0");
    assertThat(sysfs.readLink("bus/pci/devices/0000:00:05.0"))
        .contains("../../../devices/pci0000:00/0000:00:05.0");
    assertThat(sysfs.readLink("bus/pci/devices/0000:00:05.0/driver"))
        .contains("../../../bus/pci/drivers/nvme");
    assertThat(sysfs.readLink("bus/pci/devices/0000:00:05.0/iommu_group"))
        .contains("../../../kernel/iommu_groups/5");
    assertThat(sysfs.list("kernel/iommu_groups/5/devices")).containsExactly("0000:00:05.0");
    assertThat(sysfs.list("bus/pci/drivers/nvme")).contains("0000:00:05.0", "bind", "unbind");
    assertThat(sysfs.read("bus/pci/devices/0000:00:05.0/vendor")).isEqualTo("0x1b36\n");
    assertThat(sysfs.read("bus/pci/devices/0000:00:05.0/class")).isEqualTo("0x010802\n");
    assertThat(sysfs.read("bus/pci/devices/0000:00:05.0/driver_override")).isEqualTo("(null)\n");
    assertThat(sysfs.read("bus/pci/devices/0000:00:06.0/numa_node")).isEqualTo("0\n");
    List<String> resource = sysfs.read("bus/pci/devices/0000:00:05.0/resource").lines().toList();
    assertThat(resource).hasSize(13);
    String[] bar0 = resource.get(0).split(" ");
    long start = Long.decode(bar0[0]);
    assertThat(Long.decode(bar0[1]) - start + 1).as("BAR0 size").isEqualTo(16384);
    assertThat(start % 16384).as("naturally aligned").isZero();
    assertThat(bar0[2]).as("64-bit memory flags").isEqualTo("0x0000000000140204");
    assertThat(resource.get(1))
        .isEqualTo("0x0000000000000000 0x0000000000000000 0x0000000000000000");
  }

  @Test
  void configSpaceCarriesTheIdentity() {
    ByteBuffer config =
        ByteBuffer.wrap(sysfs.readBytes("bus/pci/devices/0000:00:05.0/config"))
            .order(ByteOrder.LITTLE_ENDIAN);

    assertThat(config.capacity()).isEqualTo(256);
    assertThat(config.getShort(0) & 0xffff).isEqualTo(0x1b36);
    assertThat(config.getShort(2) & 0xffff).isEqualTo(0x0010);
    assertThat(config.getInt(8) >>> 8).isEqualTo(0x010802);
    assertThat(config.getShort(0x2c) & 0xffff).isEqualTo(0x1af4);
    assertThat(config.getInt(0x10) & 0xf).as("64-bit memory BAR").isEqualTo(0x4);
    assertThat(config.getInt(0x10 + 4) & 0xffffffffL).as("its upper half").isZero();
    ByteBuffer edu =
        ByteBuffer.wrap(sysfs.readBytes("bus/pci/devices/0000:00:06.0/config"))
            .order(ByteOrder.LITTLE_ENDIAN);
    assertThat(edu.getInt(0x10) & 0xf).as("32-bit memory BAR").isZero();
    assertThat(edu.getInt(0x14)).as("the next slot stays free").isZero();
    assertThat(
            sysfs.read("bus/pci/devices/0000:00:06.0/resource").lines().findFirst().orElseThrow())
        .endsWith(" 0x0000000000040200");
  }

  @Test
  void driverOverrideIsStoredAndAnEmptyLineClearsIt() {
    sysfs.write("bus/pci/devices/0000:00:05.0/driver_override", "vfio-pci\n");
    assertThat(bus.function(NVME).driverOverride()).contains("vfio-pci");
    assertThat(bus.function(NVME).driver())
        .as("an override alone does not rebind")
        .contains("nvme");

    sysfs.write("bus/pci/devices/0000:00:05.0/driver_override", "\n");
    assertThat(sysfs.read("bus/pci/devices/0000:00:05.0/driver_override")).isEqualTo("(null)\n");
  }

  @Test
  void unbindThroughTheDeviceDriverLinkThenProbeHonoursTheOverride() {
    sysfs.write("bus/pci/devices/0000:00:05.0/driver_override", "vfio-pci");
    sysfs.write("bus/pci/devices/0000:00:05.0/driver/unbind", "0000:00:05.0");
    assertThat(bus.function(NVME).driver()).isEmpty();
    assertThat(sysfs.list("bus/pci/drivers/nvme")).doesNotContain("0000:00:05.0");

    sysfs.write("bus/pci/drivers_probe", "0000:00:05.0\n");

    PciFunction nvme = bus.function(NVME);
    assertThat(nvme.driver()).contains("vfio-pci");
    assertThat(sysfs.readLink("bus/pci/drivers/vfio-pci/0000:00:05.0"))
        .contains("../../../../devices/pci0000:00/0000:00:05.0");
  }

  @Test
  void probeWithoutOverrideUsesIdTablesAndLeavesUnclaimedFunctionsUnbound() {
    sysfs.write("bus/pci/drivers/nvme/unbind", "0000:00:05.0");
    sysfs.write("bus/pci/drivers_probe", "0000:00:05.0");
    sysfs.write("bus/pci/drivers_probe", "0000:00:06.0");

    assertThat(bus.function(NVME).driver()).contains("nvme");
    assertThat(bus.function(EDU).driver()).as("vfio-pci has no id table").isEmpty();
  }

  @Test
  void bindAndUnbindAnswerWithTheKernelsErrnos() {
    assertThatThrownBy(() -> sysfs.write("bus/pci/drivers/vfio-pci/bind", "0000:00:06.0"))
        .as("vfio-pci matches only through driver_override")
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENODEV)).isTrue());
    sysfs.write("bus/pci/devices/0000:00:05.0/driver_override", "vfio-pci");
    assertThatThrownBy(() -> sysfs.write("bus/pci/drivers/vfio-pci/bind", "0000:00:05.0"))
        .as("still bound to nvme")
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.EBUSY)).isTrue());
    assertThatThrownBy(() -> sysfs.write("bus/pci/drivers/vfio-pci/unbind", "0000:00:05.0"))
        .as("not bound to vfio-pci")
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENODEV)).isTrue());
    assertThatThrownBy(() -> sysfs.write("bus/pci/drivers_probe", "0000:00:1f.0"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENODEV)).isTrue())
        .hasMessage(
            "write \"0000:00:1f.0\" to /sys/bus/pci/drivers_probe: ENODEV (No such device)");
    assertThatThrownBy(() -> sysfs.write("bus/pci/drivers_probe", "00:05.0"))
        .as("the kernel looks functions up by their exact name")
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENODEV)).isTrue());
  }

  @Test
  void aDriverWhoseProbeRejectsTheHardwareLeavesTheFunctionUnbound() {
    sysfs.write("bus/pci/devices/0000:00:06.0/driver_override", "nvme");

    sysfs.write("bus/pci/drivers_probe", "0000:00:06.0");
    assertThat(bus.function(EDU).driver()).isEmpty();
    assertThatThrownBy(() -> sysfs.write("bus/pci/drivers/nvme/bind", "0000:00:06.0"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENODEV)).isTrue());
  }

  @Test
  void readOnlyAttributesRefuseWrites() {
    assertThatThrownBy(() -> sysfs.write("bus/pci/devices/0000:00:05.0/vendor", "0x1234"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.EACCES)).isTrue());
    assertThat(sysfs.readAttribute("bus/pci/devices/0000:00:05.0/vendor")).isEqualTo("0x1b36");
    assertThatThrownBy(() -> sysfs.write("bus/pci/devices/0000:00:05.0/nope", "1"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENOENT)).isTrue());
    assertThatThrownBy(() -> sysfs.write("bus/pci/devices/0000:00:05.0", "1"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.EISDIR)).isTrue());
  }

  @Test
  void theBuilderRefusesInconsistentMachines() {
    assertThatThrownBy(() ->
            SimSysfs.builder()
                .function(SimFunction.builder("00:05.0").driver("nvme").build())
                .build())
        .hasMessage("0000:00:05.0 starts on driver nvme, which is not loaded");
    assertThatThrownBy(() ->
            SimSysfs.builder()
                .function(SimFunction.builder("00:05.0").build())
                .function(SimFunction.builder("0000:00:05.0").build()))
        .hasMessage("two functions at 0000:00:05.0");
    assertThatThrownBy(() -> SimFunction.builder("00:05.0").bar(0, 1000).build())
        .hasMessageContaining("powers of two");
    assertThatThrownBy(() -> SimFunction.builder("00:05.0").bar64(0, 4096).bar(1, 4096).build())
        .hasMessage("the 64-bit BAR0 of 0000:00:05.0 needs slot 1 for its upper half");
  }
}
