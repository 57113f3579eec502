package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.host.Host;
import dev.upcie.junit.PciDevice;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A test run killed with {@code kill -9} while the extension has a function bound for it, and the
 * next run putting the function back from the journal. In the VFIO guest, before the project's
 * binder runs, while QEMU's controller is on the kernel's {@code nvme}: the guest script starts
 * {@link Held}, kills its JVM once it holds the controller, then runs {@link NextRun}, and writes
 * what the kernel showed at each step for {@code QemuVfioIT} to check.
 */
@Tag(GuestRun.GUEST_ONLY)
public class KilledMidTest {
  /** System property: the file {@link Held} writes once it holds the controller. */
  public static final String HOLDING_FILE = "upcie.it.holdingFile";

  static final PciAddress NVME = PciAddress.parse("0000:00:05.0");

  /** Binds the controller through the extension, says so, and waits to be killed. */
  @Nested
  class Held {
    @Test
    void holdsTheControllerUntilKilled(
        @PciDevice(address = "00:05.0", backend = "vfio") PciDeviceHandle nvme) throws Exception {
      assertThat(BindingJournal.of(Host.system()).entry(NVME))
          .as("journaled before the first sysfs write")
          .hasValueSatisfying(e -> assertThat(e.original().driver()).hasValue("nvme"));
      Files.writeString(Path.of(System.getProperty(HOLDING_FILE)), nvme.function().summary());
      new CountDownLatch(1).await();
    }
  }

  /** The next run: the dead run's entry is gone, and the controller goes back to nvme after it. */
  @Nested
  class NextRun {
    @Test
    void putsBackWhatTheKilledRunLeft(
        @PciDevice(address = "00:05.0", backend = "vfio") PciDeviceHandle nvme) {
      BindingJournal.Entry entry = BindingJournal.of(Host.system()).entry(NVME).orElseThrow();
      assertThat(entry.pid())
          .as("this run's entry, not the dead one's")
          .isEqualTo(ProcessHandle.current().pid());
      assertThat(entry.original().driver())
          .as("the killed run's binding was restored before this one bound again")
          .hasValue("nvme");
    }
  }
}
