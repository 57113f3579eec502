package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.errno.Errno;
import dev.upcie.host.Host;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.SimMachine;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsException;
import java.nio.file.Files;
import java.util.OptionalInt;
import java.util.stream.Stream;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kernel's PCI sysfs stores, written the same way to the simulated kernel on the host and to
 * the QEMU guests' real one: what each store does to {@code edu} and which errno refuses it. The
 * simulator's {@code SimSysfs} is held to the guest's Linux 6.1 by this class; where they differ,
 * the simulator is wrong.
 *
 * <p>On the host it runs on two simulated machines, as the vfio guest and as the uio guest have
 * their functions bound (fresh for each test, and closed by JUnit after it, as arguments that are
 * {@code AutoCloseable}); in each guest, on {@code /sys} itself. Every test leaves {@code edu}
 * bound as it found it, since the guest's other device tests use it next.
 */
public class KernelSysfsTest {
  private static final PciId EDU = PciId.parse("1234:11e8");

  static Stream<Arguments> machines() {
    if (!GuestRun.backend().equals("sim")) {
      return Stream.of(Arguments.of(GuestRun.backend() + " guest", Host.system()));
    }
    return Stream.of(
        Arguments.of("sim, bound as in the vfio guest", SimMachine.qemuQ35Vfio()),
        Arguments.of(
            "sim, bound as in the uio guest",
            SimMachine.qemuQ35Builder("uio_pci_generic", "uio_pci_generic").build()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("machines")
  void aBoundFunctionRefusesASecondBindAndAnotherDriversUnbind(String machine, Host host) {
    Sysfs sysfs = host.sysfs();
    PciFunction edu = edu(host);
    String driver = edu.driver().orElseThrow();
    String name = edu.address().toString();

    assertRefused(() -> sysfs.write("bus/pci/drivers/" + driver + "/bind", name), Errno.EBUSY);
    assertRefused(() -> sysfs.write("bus/pci/drivers/nvme/unbind", name), Errno.ENODEV);
    assertRefused(
        () -> sysfs.write("bus/pci/drivers/" + driver + "/bind", name.substring(5)), Errno.ENODEV);
    assertThat(host.bus().function(edu.address()).isBoundTo(driver)).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("machines")
  void newIdTakesAnIdOnceAndRemoveIdGivesItBackOnce(String machine, Host host) {
    Sysfs sysfs = host.sysfs();
    String dir = "bus/pci/drivers/" + edu(host).driver().orElseThrow();

    sysfs.write(dir + "/new_id", "1234 11e8");
    try {
      assertRefused(() -> sysfs.write(dir + "/new_id", "1234 11e8"), Errno.EEXIST);
    } finally {
      sysfs.write(dir + "/remove_id", "1234 11e8");
    }
    assertRefused(() -> sysfs.write(dir + "/remove_id", "1234 11e8"), Errno.ENODEV);
    assertRefused(() -> sysfs.write(dir + "/new_id", "1234"), Errno.EINVAL);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("machines")
  void enableBelongsToTheBoundDriver(String machine, Host host) {
    String enable = PciBus.dir(edu(host).address()) + "/enable";

    assertRefused(() -> host.sysfs().write(enable, "x"), Errno.EINVAL);
    assertRefused(() -> host.sysfs().write(enable, "1"), Errno.EBUSY);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("machines")
  void onlyAFunctionWithAResetMethodHasAResetStore(String machine, Host host) {
    PciFunction nvme =
        host.bus().select(PciSelector.any().withId(PciId.parse("1b36:0010"))).getFirst();

    assertThat(host.sysfs().exists(PciBus.dir(edu(host).address()) + "/reset"))
        .as("QEMU's edu has no function-level reset")
        .isFalse();
    assertThat(host.sysfs().exists(PciBus.dir(nvme.address()) + "/reset"))
        .as("QEMU's NVMe controller has FLR")
        .isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("machines")
  void driverOverrideTakesANameAndAnEmptyLineClearsIt(String machine, Host host) {
    String override = PciBus.dir(edu(host).address()) + "/driver_override";
    String before = host.sysfs().read(override);

    try {
      host.sysfs().write(override, "\n");
      assertThat(host.sysfs().read(override)).isEqualTo("(null)\n");
      host.sysfs().write(override, "nvme\n");
      assertThat(host.sysfs().read(override)).isEqualTo("nvme\n");
    } finally {
      host.sysfs().write(override, before.equals("(null)\n") ? "\n" : before);
    }
    assertThat(host.sysfs().read(override)).isEqualTo(before);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("machines")
  void configWritesReachTheHardwareThroughItsOwnMasks(String machine, Host host) {
    Sysfs sysfs = host.sysfs();
    String config = PciBus.dir(edu(host).address()) + "/config";
    byte[] before = sysfs.readBytes(config);
    assertThat(before).as("edu is conventional PCI: 256 bytes").hasSize(256);

    try {
      assertThat(sysfs.writeBytes(config, 0x3c, new byte[] {0x5a})).isOne();
      assertThat(sysfs.writeBytes(config, 0x80, new byte[] {(byte) 0xa5})).isOne();
      assertThat(sysfs.writeBytes(config, 0x00, new byte[] {0, 0})).isEqualTo(2);
      byte[] after = sysfs.readBytes(config);
      assertThat(after[0x3c]).as("interrupt line: writable").isEqualTo((byte) 0x5a);
      assertThat(after[0x80]).as("past the header, no capability: writable").isEqualTo((byte) 0xa5);
      assertThat(after[0x00]).as("vendor id: read-only").isEqualTo((byte) 0x34);
      assertThat(sysfs.writeBytes(config, 0xfe, new byte[] {before[0xfe], before[0xff], 1, 1}))
          .as("clipped at the end")
          .isEqualTo(2);
      assertRefused(() -> sysfs.writeBytes(config, 0x100, new byte[] {0}), Errno.EFBIG);
    } finally {
      sysfs.writeBytes(config, 0x3c, new byte[] {before[0x3c]});
      sysfs.writeBytes(config, 0x80, new byte[] {before[0x80]});
    }
    assertThat(sysfs.readBytes(config)).isEqualTo(before);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("machines")
  void removeAndRescanBringTheFunctionBackFresh(String machine, Host host) {
    Sysfs sysfs = host.sysfs();
    PciFunction edu = edu(host);
    PciAddress address = edu.address();
    String driver = edu.driver().orElseThrow();
    OptionalInt group = edu.iommuGroup();

    sysfs.write(PciBus.dir(address) + "/remove", "1");
    try {
      assertThat(host.bus().find(address)).isEmpty();
      assertThat(sysfs.exists("bus/pci/drivers/" + driver + "/" + address)).isFalse();
      group.ifPresent(g ->
          assertThat(sysfs.exists("kernel/iommu_groups/" + g))
              .as("its IOMMU group, left empty, is gone")
              .isFalse());
    } finally {
      sysfs.write("bus/pci/rescan", "1");
    }

    PciFunction back = host.bus().function(address);
    assertThat(back.driver()).as("nothing claims edu by id").isEmpty();
    assertThat(back.driverOverride()).as("a rescanned function is a new one").isEmpty();
    assertThat(back.iommuGroup()).as("the group number, freed and taken again").isEqualTo(group);
    new PciDriverBinder(sysfs).bind(address, driver);
    assertThat(host.bus().function(address).isBoundTo(driver)).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("machines")
  void theBoundDriverGivesTheFunctionItsDeviceNode(String machine, Host host) {
    PciFunction edu = edu(host);
    String dir = PciBus.dir(edu.address());

    if (edu.isBoundTo("vfio-pci")) {
      assertThat(host.dev().resolve("vfio/" + edu.iommuGroup().getAsInt())).exists();
      assertThat(host.dev().resolve("vfio/vfio")).exists();
      assertThat(host.sysfs().exists(dir + "/uio")).isFalse();
    } else {
      assertThat(edu.isBoundTo("uio_pci_generic")).isTrue();
      assertThat(host.sysfs().list(dir + "/uio")).singleElement().asString().startsWith("uio");
      String uio = host.sysfs().list(dir + "/uio").getFirst();
      assertThat(host.sysfs().readAttribute("class/uio/" + uio + "/name"))
          .isEqualTo("uio_pci_generic");
      assertThat(Files.exists(host.dev().resolve(uio))).as("/dev/" + uio).isTrue();
    }
  }

  private static PciFunction edu(Host host) {
    PciFunction edu = host.bus().select(PciSelector.any().withId(EDU)).getFirst();
    assertThat(edu.driver()).as("edu is bound before each test").isPresent();
    return edu;
  }

  private static void assertRefused(ThrowingCallable store, Errno errno) {
    assertThatThrownBy(store)
        .isInstanceOfSatisfying(
            SysfsException.class, e -> assertThat(e.is(errno)).as(e.getMessage()).isTrue());
  }
}
