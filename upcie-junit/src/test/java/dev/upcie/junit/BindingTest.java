package dev.upcie.junit;

import static dev.upcie.junit.Kit.kit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.testkit.engine.EventConditions.skippedWithReason;

import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciFunction;
import dev.upcie.sim.SimMachine;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A function the test names by address is bound to the backend's driver on the way in, journaled,
 * and put back on the way out, whether the test passes or fails. Shown on a simulated machine whose
 * controller starts on the kernel's nvme driver, with the kernel's write semantics; the QEMU guest
 * does it to the real kernel.
 */
class BindingTest {
  static final PciAddress NVME = PciAddress.parse("0000:00:05.0");
  static final List<Object> SEEN = new CopyOnWriteArrayList<>();

  @BeforeEach
  void forget() {
    SEEN.clear();
  }

  @Test
  void aFunctionNamedByAddressIsBoundForTheTestAndPutBackAfter() {
    kit().run(Bound.class).testEvents().assertStatistics(s -> s.succeeded(1));

    PciFunction during = (PciFunction) SEEN.get(0);
    assertThat(during.driver()).hasValue("vfio-pci");
    assertThat(SEEN.get(1))
        .as("journaled while bound")
        .isEqualTo(Optional.of(new PciBinding(NVME, Optional.of("nvme"), Optional.empty())));
    assertBackOnNvme((SimMachine) SEEN.get(2));
  }

  @Test
  void aFailingTestsFunctionIsPutBackToo() {
    kit().run(BoundAndFailing.class).testEvents().assertStatistics(s -> s.failed(1));

    assertBackOnNvme((SimMachine) SEEN.get(0));
  }

  @Test
  void aFunctionSelectedByClassIsNeverMoved() {
    kit()
        .run(ByClass.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            skippedWithReason(
                r -> r.contains("no PCI function matching class 0x010802 is bound to vfio-pci")));
  }

  @Test
  void whatADeadRunLeftIsPutBackByTheJournal() throws Exception {
    SimMachine machine = SimMachine.qemuQ35();
    BindingJournal journal = BindingJournal.of(machine);
    new PciDriverBinder(machine.sysfs()).bind(NVME, "vfio-pci", journal);
    // As a process that was killed mid-test leaves it: its entry names a pid that is gone.
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    java.nio.file.Path entry = journal.directory().resolve("0000_00_05.0.binding");
    java.nio.file.Files.writeString(
        entry, java.nio.file.Files.readString(entry).replaceFirst("pid=\\d+", "pid=" + gone.pid()));

    List<BindingJournal.Entry> restored =
        journal.restoreOrphans(new PciDriverBinder(machine.sysfs()));

    assertThat(restored).singleElement().satisfies(e -> assertThat(e.pid()).isEqualTo(gone.pid()));
    assertBackOnNvme(machine);
  }

  private static void assertBackOnNvme(SimMachine machine) {
    PciFunction after = machine.bus().function(NVME);
    assertThat(after.driver()).hasValue("nvme");
    assertThat(after.driverOverride()).isEmpty();
    assertThat(BindingJournal.of(machine).entries()).isEmpty();
  }

  @SimulatedMachine(preset = "qemu-q35")
  static class Bound {
    @Test
    void test(
        @PciDevice(address = "00:05.0") PciDeviceHandle nvme,
        @PciDevice(address = "00:05.0") SimMachine machine) {
      SEEN.add(machine.bus().function(NVME));
      SEEN.add(BindingJournal.of(machine).entry(NVME).map(BindingJournal.Entry::original));
      SEEN.add(machine);
    }
  }

  @SimulatedMachine(preset = "qemu-q35")
  static class BoundAndFailing {
    @Test
    void test(@PciDevice(address = "00:05.0") SimMachine machine) {
      SEEN.add(machine);
      throw new AssertionError("fails while bound");
    }
  }

  @SimulatedMachine(preset = "qemu-q35")
  static class ByClass {
    @Test
    void test(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {}
  }
}
