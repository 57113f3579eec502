package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The journal keeps what a function was bound to, and tells a dead process's entries apart. */
class BindingJournalTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");
  private static final PciBinding ON_NVME =
      new PciBinding(NVME, Optional.of("nvme"), Optional.empty());

  @Test
  void anEntryIsWrittenReadBackAndForgotten(@TempDir Path dir) {
    BindingJournal journal = BindingJournal.at(dir.resolve("bindings"));

    journal.record(ON_NVME, "vfio-pci");

    assertThat(journal.entry(NVME))
        .hasValueSatisfying(e -> {
          assertThat(e.original()).isEqualTo(ON_NVME);
          assertThat(e.target()).isEqualTo("vfio-pci");
          assertThat(e.pid()).isEqualTo(ProcessHandle.current().pid());
          assertThat(e.orphaned()).as("this process is alive").isFalse();
        });
    assertThat(journal.entries()).hasSize(1);

    journal.forget(NVME);

    assertThat(journal.entries()).isEmpty();
    assertThat(journal.entry(NVME)).isEmpty();
  }

  @Test
  void aSecondMoveByTheSameProcessKeepsTheFirstOriginal(@TempDir Path dir) {
    BindingJournal journal = BindingJournal.at(dir);
    journal.record(ON_NVME, "vfio-pci");

    journal.record(new PciBinding(NVME, Optional.of("vfio-pci"), Optional.of("vfio-pci")), "uio");

    assertThat(journal.entry(NVME).orElseThrow().original()).isEqualTo(ON_NVME);
  }

  @Test
  void aKeptEntryIsNeverAnOrphanAndAMoveFromItKeepsTheFirstOriginal(@TempDir Path dir) {
    BindingJournal journal = BindingJournal.at(dir);
    journal.record(ON_NVME, "vfio-pci");

    journal.keep(NVME);

    BindingJournal.Entry kept = journal.entry(NVME).orElseThrow();
    assertThat(kept.kept()).isTrue();
    assertThat(kept.orphaned()).as("its process is gone on purpose").isFalse();
    assertThat(kept.toString()).contains("(kept until restored)");

    // devbind bind later moves it on: restore must still return it to nvme, not to vfio-pci.
    journal.record(new PciBinding(NVME, Optional.of("vfio-pci"), Optional.of("vfio-pci")), "uio");
    assertThat(journal.entry(NVME).orElseThrow().original()).isEqualTo(ON_NVME);
    assertThat(journal.entry(NVME).orElseThrow().target()).isEqualTo("uio");
    assertThatThrownBy(() -> journal.keep(PciAddress.parse("00:09.0")))
        .isInstanceOf(PciException.class)
        .hasMessage("no journal entry for 0000:00:09.0 to keep");
  }

  @Test
  void anEntryOfADeadProcessIsOrphaned(@TempDir Path dir) throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Files.writeString(
        dir.resolve("0000_00_05.0.binding"),
        "address=0000:00:05.0\ndriver=nvme\ndriver_override=\ntarget=vfio-pci\npid="
            + gone.pid()
            + "\nsince=2026-12-02T00:00:00Z\n");

    assertThat(BindingJournal.at(dir).entries())
        .singleElement()
        .satisfies(e -> {
          assertThat(e.orphaned()).isTrue();
          assertThat(e.original()).isEqualTo(ON_NVME);
        });
  }

  @Test
  void aDamagedEntrySaysWhichFileToRemove(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("0000_00_05.0.binding"), "address=zz\n");

    assertThatThrownBy(() -> BindingJournal.at(dir).entries())
        .isInstanceOf(PciException.class)
        .hasMessageStartingWith("the binding journal " + dir.resolve("0000_00_05.0.binding"))
        .hasMessageEndingWith("; remove it");
  }

  @Test
  void aJournalThatCannotBeWrittenRefusesTheMove(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("not-a-directory");
    Files.writeString(file, "");

    assertThatThrownBy(() -> BindingJournal.at(file).record(ON_NVME, "vfio-pci"))
        .isInstanceOf(PciException.class)
        .hasMessageStartingWith("cannot journal the binding of 0000:00:05.0 in " + file)
        .hasMessageContaining("so it is not moved");
  }
}
