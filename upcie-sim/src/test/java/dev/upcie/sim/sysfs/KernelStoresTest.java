package dev.upcie.sim.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.errno.Errno;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.sysfs.SysfsException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The stores beyond binding, each with the kernel's effect and errno. */
class KernelStoresTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");
  private static final String EDU_DIR = "bus/pci/devices/0000:00:06.0";

  private SimSysfs sysfs;
  private PciBus bus;

  @BeforeEach
  void machine() {
    sysfs = TwoFunctionMachine.build();
    bus = new PciBus(sysfs);
  }

  @Test
  void newIdBindsEveryUnboundFunctionItMatchesAndRefusesWhatTheDriverClaims() {
    sysfs.write("bus/pci/drivers/vfio-pci/new_id", "1234 11e8\n");

    assertThat(bus.function(EDU).isBoundTo("vfio-pci")).isTrue();
    assertThat(bus.function(NVME).isBoundTo("nvme")).as("a bound function stays").isTrue();
    assertRefused(() -> sysfs.write("bus/pci/drivers/vfio-pci/new_id", "1234 11e8"), Errno.EEXIST);
    assertRefused(
        () ->
            sysfs.write(
                "bus/pci/drivers/nvme/new_id", "0x1b36 0x0010 ffffffff ffffffff 010802 ffffff"),
        Errno.EEXIST);
    assertRefused(() -> sysfs.write("bus/pci/drivers/vfio-pci/new_id", "1234"), Errno.EINVAL);
    assertRefused(() -> sysfs.write("bus/pci/drivers/vfio-pci/new_id", "zz 11e8"), Errno.EINVAL);
  }

  @Test
  void removeIdForgetsTheIdButLeavesWhatItBound() {
    sysfs.write("bus/pci/drivers/vfio-pci/new_id", "1234 11e8");
    sysfs.write("bus/pci/drivers/vfio-pci/remove_id", "1234 11e8");

    assertThat(bus.function(EDU).isBoundTo("vfio-pci")).isTrue();
    assertRefused(
        () -> sysfs.write("bus/pci/drivers/vfio-pci/remove_id", "1234 11e8"), Errno.ENODEV);
    sysfs.write("bus/pci/drivers/vfio-pci/unbind", "0000:00:06.0");
    sysfs.write("bus/pci/drivers_probe", "0000:00:06.0");
    assertThat(bus.function(EDU).driver()).as("the id is gone, so nothing claims edu").isEmpty();
  }

  @Test
  void removeTakesTheFunctionOffTheBusAndRescanBringsItBackFresh() {
    sysfs.write("bus/pci/devices/0000:00:05.0/driver_override", "vfio-pci");
    sysfs.write("bus/pci/devices/0000:00:05.0/remove", "1");

    assertThat(bus.find(NVME)).isEmpty();
    assertThat(sysfs.exists("bus/pci/drivers/nvme/0000:00:05.0")).isFalse();
    assertThat(sysfs.exists("kernel/iommu_groups/5")).as("the group left empty goes").isFalse();

    sysfs.write("bus/pci/rescan", "1");
    assertThat(bus.function(NVME).isBoundTo("nvme"))
        .as("rescanned without its override, nvme claims it again")
        .isTrue();
    assertThat(bus.function(NVME).driverOverride()).isEmpty();
    assertThat(sysfs.list("kernel/iommu_groups/5/devices")).containsExactly("0000:00:05.0");
    assertRefused(() -> sysfs.write(EDU_DIR + "/remove", "yes"), Errno.EINVAL);
    sysfs.write(EDU_DIR + "/remove", "0");
    assertThat(bus.find(EDU)).as("0 removes nothing").isPresent();
  }

  @Test
  void onlyHardwareThatCanResetHasAResetStore() {
    assertThat(sysfs.exists(EDU_DIR + "/reset")).as("no hardware, no reset method").isFalse();
    sysfs.attachHardware(EDU, new StoredConfig(sysfs.readBytes(EDU_DIR + "/config")));
    assertThat(sysfs.exists(EDU_DIR + "/reset")).as("hardware that cannot reset").isFalse();
    int[] resets = {0};
    sysfs.attachHardware(
        EDU,
        new StoredConfig(sysfs.readBytes(EDU_DIR + "/config")) {
          @Override
          public boolean canReset() {
            return true;
          }

          @Override
          public void reset() {
            resets[0]++;
          }
        });

    assertRefused(() -> sysfs.write(EDU_DIR + "/reset", "2"), Errno.EINVAL);
    sysfs.write(EDU_DIR + "/reset", "1\n");
    assertThat(resets[0]).isEqualTo(1);
  }

  @Test
  void enableCountsAndTurnsDecodingOnThenBusMasteringOff() {
    sysfs.writeBytes(EDU_DIR + "/config", 4, new byte[] {0x04, 0});
    assertThat(command()).as("bus master only").isEqualTo(0x4);

    sysfs.write(EDU_DIR + "/enable", "1");
    sysfs.write(EDU_DIR + "/enable", "1");
    assertThat(sysfs.readAttribute(EDU_DIR + "/enable")).isEqualTo("2");
    assertThat(command()).as("memory decoding on").isEqualTo(0x6);
    sysfs.write(EDU_DIR + "/enable", "0");
    assertThat(command()).isEqualTo(0x6);
    sysfs.write(EDU_DIR + "/enable", "0");
    assertThat(command()).as("bus mastering off at the last disable").isEqualTo(0x2);
    assertRefused(() -> sysfs.write(EDU_DIR + "/enable", "0"), Errno.EIO);
    assertRefused(() -> sysfs.write("bus/pci/devices/0000:00:05.0/enable", "1"), Errno.EBUSY);
  }

  @Test
  void configWritesReachTheHardwareClippedToTheSpace() {
    StoredConfig hardware = new StoredConfig(sysfs.readBytes(EDU_DIR + "/config"));
    sysfs.attachHardware(EDU, hardware);

    assertThat(sysfs.writeBytes(EDU_DIR + "/config", 0x40, new byte[] {1, 2, 3})).isEqualTo(3);
    assertThat(sysfs.readBytes(EDU_DIR + "/config")).containsSequence(1, 2, 3);
    assertThat(sysfs.writeBytes(EDU_DIR + "/config", 254, new byte[] {9, 9, 9, 9})).isEqualTo(2);
    assertRefused(() -> sysfs.writeBytes(EDU_DIR + "/config", 256, new byte[] {9}), Errno.EFBIG);
    assertThat(hardware.writes).isEqualTo(2);
    assertRefused(() -> sysfs.writeBytes(EDU_DIR + "/vendor", 0, new byte[] {1}), Errno.EACCES);
  }

  @Test
  void uioAndNvmeBindingsGetTheirClassDevices() {
    assertThat(sysfs.list("bus/pci/devices/0000:00:05.0/nvme")).containsExactly("nvme0");
    assertThat(sysfs.readLink("class/nvme/nvme0"))
        .contains("../../devices/pci0000:00/0000:00:05.0/nvme/nvme0");

    sysfs.write(EDU_DIR + "/driver_override", "uio_pci_generic");
    sysfs.write("bus/pci/drivers_probe", "0000:00:06.0");
    assertThat(sysfs.list(EDU_DIR + "/uio")).containsExactly("uio0");
    assertThat(sysfs.readAttribute("class/uio/uio0/name")).isEqualTo("uio_pci_generic");

    sysfs.write("bus/pci/drivers/uio_pci_generic/unbind", "0000:00:06.0");
    sysfs.write("bus/pci/drivers/nvme/unbind", "0000:00:05.0");
    assertThat(sysfs.exists(EDU_DIR + "/uio")).isFalse();
    assertThat(sysfs.list("class/uio")).isEmpty();
    assertThat(sysfs.list("class/nvme")).isEmpty();
  }

  @Test
  void unplugRemovesForGood() {
    sysfs.unplug(NVME);

    assertThat(bus.find(NVME)).isEmpty();
    assertThat(sysfs.list("class/nvme")).isEmpty();
    sysfs.write("bus/pci/rescan", "1");
    assertThat(bus.find(NVME)).as("hardware that is gone does not come back").isEmpty();
  }

  @Test
  void aFunctionUnpluggedWhileRemovedNeverComesBack() {
    sysfs.write("bus/pci/devices/0000:00:05.0/remove", "1");
    sysfs.unplug(NVME);

    sysfs.write("bus/pci/rescan", "1");
    assertThat(bus.find(NVME)).isEmpty();
  }

  @Test
  void functionsBoundAtOnceGetDistinctClassDevices() throws Exception {
    sysfs.write("bus/pci/drivers/nvme/unbind", "0000:00:05.0");
    for (String function : List.of("0000:00:05.0", "0000:00:06.0")) {
      sysfs.write("bus/pci/devices/" + function + "/driver_override", "uio_pci_generic");
    }
    try (ExecutorService two = Executors.newFixedThreadPool(2)) {
      List<Future<?>> binds = new ArrayList<>();
      for (String function : List.of("0000:00:05.0", "0000:00:06.0")) {
        binds.add(two.submit(() -> sysfs.write("bus/pci/drivers/uio_pci_generic/bind", function)));
      }
      for (Future<?> bind : binds) {
        bind.get(10, TimeUnit.SECONDS);
      }
    }
    assertThat(sysfs.list("class/uio")).containsExactlyInAnyOrder("uio0", "uio1");
  }

  @Test
  void theKernelsParsingOfOverridesAndNumbers() {
    String override = EDU_DIR + "/driver_override";
    sysfs.write(override, "vfio-pci\nignored");
    assertThat(sysfs.readAttribute(override)).as("up to the first newline").isEqualTo("vfio-pci");
    assertRefused(() -> sysfs.write(override, "x".repeat(4095)), Errno.EINVAL);
    sysfs.write(override, "x".repeat(4094));
    assertThat(sysfs.readAttribute(override)).hasSize(4094);

    assertRefused(() -> sysfs.write(EDU_DIR + "/remove", "99999999999999999999"), Errno.EINVAL);
    assertRefused(
        () ->
            sysfs.write(
                "kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "99999999999999999999"),
        Errno.ERANGE);
    assertRefused(
        () -> sysfs.write("bus/pci/drivers/vfio-pci/new_id", "1234 11e8 ffffffff ffffffff 0 0 1"),
        Errno.EINVAL);
  }

  @Test
  void functionsInADomainAboveFfffTakeStoresToo() {
    // VMD puts the functions behind it in domains 0x10000 and up, eight hex digits in sysfs.
    SimSysfs vmd =
        SimSysfs.builder()
            .driver(SimDriver.overrideOnly("vfio-pci"))
            .function(SimFunction.builder("10000:e1:00.0").id(0x144d, 0xa808).bar(0, 16384).build())
            .build();
    String dir = "bus/pci/devices/10000:e1:00.0";
    assertThat(vmd.readLink(dir)).contains("../../../devices/pci10000:e1/10000:e1:00.0");

    vmd.write(dir + "/driver_override", "vfio-pci");
    vmd.write("bus/pci/drivers_probe", "10000:e1:00.0");
    assertThat(new PciBus(vmd).function(PciAddress.parse("10000:e1:00.0")).isBoundTo("vfio-pci"))
        .isTrue();
  }

  private int command() {
    byte[] config = sysfs.readBytes(EDU_DIR + "/config");
    return (config[4] & 0xff) | (config[5] & 0xff) << 8;
  }

  private static void assertRefused(ThrowingCallable store, Errno errno) {
    assertThatThrownBy(store)
        .isInstanceOfSatisfying(
            SysfsException.class, e -> assertThat(e.is(errno)).as(e.getMessage()).isTrue());
  }

  /** Hardware that keeps its configuration bytes and counts writes. */
  private static class StoredConfig implements FunctionHardware {
    private final byte[] bytes;
    int writes;

    StoredConfig(byte[] bytes) {
      this.bytes = bytes;
    }

    @Override
    public byte[] config() {
      return bytes.clone();
    }

    @Override
    public void writeConfig(int offset, byte[] data) {
      writes++;
      System.arraycopy(data, 0, bytes, offset, data.length);
    }

    @Override
    public boolean canReset() {
      return false;
    }

    @Override
    public void reset() {
      throw new AssertionError("the kernel resets only hardware that can reset");
    }
  }
}
