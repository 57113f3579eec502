package dev.upcie.sim.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.upcie.errno.Errno;
import dev.upcie.pci.BindCheck;
import dev.upcie.pci.BindOptions;
import dev.upcie.pci.BindPreflight;
import dev.upcie.pci.BindRefusedException;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.SimMachine;
import dev.upcie.support.EnvironmentException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The documented bind algorithm on a whole simulated machine (sysfs, /proc and /dev): its steps in
 * order, module loading, the safety checks, and injected kernel failures that must leave nothing
 * half-done.
 */
class BindAlgorithmTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");

  private SimMachine machine = SimMachine.qemuQ35();

  @AfterEach
  void close() {
    machine.close();
  }

  private PciFunction function(PciAddress address) {
    return machine.bus().function(address);
  }

  /** A process of the simulated machine holding {@code node} open, as /proc shows it. */
  private void processHolds(long pid, String command, String node) throws Exception {
    Path proc = machine.procfs().root().resolve(Long.toString(pid));
    Files.createDirectories(proc.resolve("fd"));
    Files.writeString(proc.resolve("comm"), command + "\n");
    Files.createSymbolicLink(proc.resolve("fd/3"), proc.getFileSystem().getPath(node));
  }

  @Test
  void thePlanIsTheDocumentedOrderAndIsWhatTheBinderDoes() {
    PciDriverBinder binder = new PciDriverBinder(machine);

    assertThat(binder.planBind(NVME, "vfio-pci", BindOptions.defaults()).commands(machine.sysfs()))
        .containsExactly(
            "echo vfio-pci > /sys/bus/pci/devices/0000:00:05.0/driver_override",
            "echo 0000:00:05.0 > /sys/bus/pci/drivers/nvme/unbind",
            "echo 0000:00:05.0 > /sys/bus/pci/drivers_probe",
            "test \"$(basename \"$(readlink /sys/bus/pci/devices/0000:00:05.0/driver)\")\" ="
                + " vfio-pci");

    PciBinding before = binder.bind(NVME, "vfio-pci");

    assertThat(before).isEqualTo(new PciBinding(NVME, Optional.of("nvme"), Optional.empty()));
    assertThat(function(NVME).driver()).contains("vfio-pci");
    assertThat(function(NVME).driverOverride()).as("kept by default").contains("vfio-pci");
    assertThat(machine.dev().resolve("vfio/5")).as("the group node, verified").exists();
    assertThat(binder.planBind(NVME, "vfio-pci", BindOptions.defaults()).isEmpty()).isTrue();
  }

  @Test
  void transientClearsTheOverrideOnceBound() {
    PciDriverBinder binder = new PciDriverBinder(machine);
    BindOptions options = BindOptions.defaults().transientOverride();

    assertThat(binder.planBind(EDU, "uio_pci_generic", options).commands(machine.sysfs()))
        .last()
        .isEqualTo("echo > /sys/bus/pci/devices/0000:00:06.0/driver_override");
    binder.bind(EDU, "uio_pci_generic", options, null);

    assertThat(function(EDU).driver()).contains("uio_pci_generic");
    assertThat(function(EDU).driverOverride()).isEmpty();
    assertThat(machine.dev().resolve("uio0")).exists();
  }

  @Test
  void aDriverWhoseModuleIsNotLoadedIsLoadedFirst() {
    machine.close();
    machine =
        SimMachine.builder()
            .driver(SimDriver.claiming("nvme", PciSelector.any().withClass(PciClassCode.NVME)))
            .module(SimDriver.overrideOnly("vfio-pci"))
            .function(
                SimFunction.builder("0000:00:05.0")
                    .id(0x1b36, 0x0010)
                    .classCode(0x010802)
                    .bar64(0, 16384)
                    .driver("nvme")
                    .iommuGroup(5)
                    .build())
            .build();
    PciDriverBinder binder = new PciDriverBinder(machine);

    assertThat(binder.planBind(NVME, "vfio-pci", BindOptions.defaults()).commands(machine.sysfs()))
        .first()
        .isEqualTo("modprobe vfio-pci");
    binder.bind(NVME, "vfio-pci");

    assertThat(machine.sysfs().exists("bus/pci/drivers/vfio-pci")).isTrue();
    assertThat(function(NVME).driver()).contains("vfio-pci");
  }

  @Test
  void aModuleTheKernelLacksChangesNothingAndIsAnEnvironmentProblem() {
    BindingJournal journal = BindingJournal.of(machine);

    assertThatThrownBy(() -> new PciDriverBinder(machine).bind(NVME, "igb_uio", journal))
        .isInstanceOf(EnvironmentException.class)
        .hasMessageStartingWith("`modprobe igb_uio` failed: modprobe: FATAL: Module igb_uio not");

    assertThat(function(NVME).driver()).contains("nvme");
    assertThat(function(NVME).driverOverride()).isEmpty();
    assertThat(journal.entries()).as("nothing journaled: nothing was written").isEmpty();
  }

  @Test
  void aDeviceNodeHeldOpenIsRefusedByNameAndNothingChanges() throws Exception {
    processHolds(4242, "fio", "/dev/nvme0");
    PciDriverBinder binder = new PciDriverBinder(machine);

    assertThatThrownBy(() -> binder.bind(NVME, "vfio-pci"))
        .isInstanceOf(BindRefusedException.class)
        .hasMessage(
            "refused to bind 0000:00:05.0 to vfio-pci, and changed nothing: 0000:00:05.0:"
                + " /dev/nvme0 is open in process 4242 (fio) [open]: stop process 4242 or let it"
                + " close the device first (to override, and only then: --force=open)");
    assertThat(function(NVME).driver()).contains("nvme");
    assertThat(function(NVME).driverOverride()).isEmpty();

    binder.bind(NVME, "vfio-pci", BindOptions.defaults().forcing(BindCheck.OPEN), null);
    assertThat(function(NVME).driver()).as("overridden by its name").contains("vfio-pci");
  }

  @Test
  void aFailedProbeIsRolledBackToTheOldDriverAndItsJournalEntryForgotten() {
    BindingJournal journal = BindingJournal.of(machine);
    // virtio-pci's probe refuses an NVMe controller every time: retrying cannot help.
    PciDriverBinder binder = new PciDriverBinder(machine);

    assertThatThrownBy(() -> binder.bind(NVME, "virtio-pci", BindOptions.defaults(), journal))
        .isInstanceOf(PciException.class)
        .hasMessage(
            "binding 0000:00:05.0 to virtio-pci failed: after drivers_probe it is bound to no"
                + " driver (the driver refused it; see dmesg); restored 0000:00:05.0 on nvme");

    assertThat(function(NVME).driver()).contains("nvme");
    assertThat(function(NVME).driverOverride()).isEmpty();
    assertThat(journal.entries()).isEmpty();
  }

  @Test
  void aProbeThatFailsOnceIsRetried() {
    machine.sysfs().faults().failNextBind(EDU, Errno.EAGAIN);

    new PciDriverBinder(machine).bind(EDU, "vfio-pci");

    assertThat(function(EDU).driver()).contains("vfio-pci");
  }

  @Test
  void anUnbindThatHangsTimesOutNamingTheHolderAndEndsOnTheTargetOnceReleased() throws Exception {
    machine.close();
    machine = SimMachine.qemuQ35Vfio();
    processHolds(777, "qemu-system-x86", "/dev/vfio/5");
    BindingJournal journal = BindingJournal.of(machine);
    SysfsFaults.Hang hang = machine.sysfs().faults().hangNextUnbind(NVME);
    BindOptions options =
        BindOptions.defaults().forcing(BindCheck.OPEN).withUnbindTimeout(Duration.ofMillis(200));

    assertThatThrownBy(
            () -> new PciDriverBinder(machine).bind(NVME, "uio_pci_generic", options, journal))
        .isInstanceOf(PciException.class)
        .hasMessage(
            "unbinding 0000:00:05.0 from vfio-pci did not finish within 200 ms: /dev/vfio/5 is open"
                + " in process 777 (qemu-system-x86); its driver waits for them to close it. The"
                + " kernel finishes the unbind once the device is released, and then thread"
                + " upcie-unbind binds it to uio_pci_generic; nothing could be rolled back."
                + " Afterwards, `upcie devbind restore 0000:00:05.0` returns it");
    assertThat(journal.entry(NVME)).as("kept, for restore").isPresent();

    hang.release();

    await().until(() -> function(NVME).isBoundTo("uio_pci_generic"));
    new PciDriverBinder(machine).restore(journal.entry(NVME).get().original(), journal);
    assertThat(function(NVME).driver()).contains("vfio-pci");
    assertThat(journal.entries()).isEmpty();
  }

  @Test
  void aGroupWithAnotherEndpointOnAKernelDriverIsRefusedUnlessMovedWhole() {
    machine.close();
    machine =
        SimMachine.builder()
            .driver(
                SimDriver.claiming(
                    "snd_hda_intel", PciSelector.any().withId(new PciId(0x8086, 0x293e))))
            .driver(SimDriver.overrideOnly("vfio-pci"))
            .function(
                SimFunction.builder("0000:01:00.0")
                    .id(0x10de, 0x1b80)
                    .classCode(0x030000)
                    .bar(0, 1 << 20)
                    .iommuGroup(9)
                    .build())
            .function(
                SimFunction.builder("0000:01:00.1")
                    .id(0x8086, 0x293e)
                    .classCode(0x040300)
                    .bar(0, 16 << 10)
                    .driver("snd_hda_intel")
                    .iommuGroup(9)
                    .build())
            .build();
    PciAddress gpu = PciAddress.parse("0000:01:00.0");
    PciAddress audio = PciAddress.parse("0000:01:00.1");
    PciDriverBinder binder = new PciDriverBinder(machine);

    assertThatThrownBy(() -> binder.bind(gpu, "vfio-pci"))
        .isInstanceOf(BindRefusedException.class)
        .hasMessageContaining(
            "IOMMU group 9 also holds 0000:01:00.1 on snd_hda_intel, and VFIO opens a group only"
                + " when every endpoint in it is on vfio-pci or on no driver [group]: move the"
                + " whole group (--whole-group), or leave it");
    assertThat(machine.bus().function(gpu).driver()).isEmpty();

    List<PciAddress> whole = BindPreflight.groupToMove(machine.sysfs(), gpu);
    assertThat(whole).containsExactly(gpu, audio);
    for (PciAddress member : whole) {
      binder.bind(member, "vfio-pci", BindOptions.defaults(), null, Set.copyOf(whole));
    }
    assertThat(machine.bus().function(audio).driver()).contains("vfio-pci");
    assertThat(machine.bus().function(gpu).driver()).contains("vfio-pci");
  }

  @Test
  void unbindLeavesNoDriverAndResetHandsTheFunctionBackToTheKernel() {
    PciDriverBinder binder = new PciDriverBinder(machine);
    binder.bind(NVME, "vfio-pci");

    binder.unbind(NVME, BindOptions.defaults(), null);
    assertThat(function(NVME).driver()).isEmpty();

    assertThat(binder.planReset(NVME).commands(machine.sysfs()))
        .containsExactly(
            "echo > /sys/bus/pci/devices/0000:00:05.0/driver_override",
            "modprobe -q pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02 || true",
            "echo 0000:00:05.0 > /sys/bus/pci/drivers_probe",
            "readlink /sys/bus/pci/devices/0000:00:05.0/driver");
    binder.reset(NVME, BindOptions.defaults());
    assertThat(function(NVME).driver()).as("the kernel's own choice").contains("nvme");
    assertThat(function(NVME).driverOverride()).isEmpty();
  }
}
