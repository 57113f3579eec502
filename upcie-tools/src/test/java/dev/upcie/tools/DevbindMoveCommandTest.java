package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code devbind bind}, {@code unbind} and {@code restore} on simulated machines, one command each:
 * what they print, what they refuse, and their exit statuses.
 */
class DevbindMoveCommandTest {
  private static final String SIM = SysfsOption.SIMULATED;

  /** The recorded q35 guest with its NVMe controller and edu on vfio-pci, overrides set. */
  private static final String VFIO_RECORDING =
      Path.of("../upcie-sim/src/test/resources/sysfs/qemu-q35-iommu-vfio.umockdev").toString();

  @Test
  void aDryRunPrintsTheExactWritesInOrderAndChangesNothing() {
    CommandResult r =
        upcie(
            "devbind",
            "bind",
            "vfio-pci",
            "00:05.0",
            "1234:11e8",
            "--sysfs-root",
            SIM,
            "--dry-run");

    assertThat(r.exit()).as("stderr: %s", r.err()).isZero();
    assertThat(r.out().lines())
        .containsExactly(
            "# 0000:00:05.0: nvme",
            "echo vfio-pci > /sys/bus/pci/devices/0000:00:05.0/driver_override",
            "echo 0000:00:05.0 > /sys/bus/pci/drivers/nvme/unbind",
            "echo 0000:00:05.0 > /sys/bus/pci/drivers_probe",
            "test \"$(basename \"$(readlink /sys/bus/pci/devices/0000:00:05.0/driver)\")\" ="
                + " vfio-pci",
            "# 0000:00:06.0: no driver",
            "echo vfio-pci > /sys/bus/pci/devices/0000:00:06.0/driver_override",
            "echo 0000:00:06.0 > /sys/bus/pci/drivers_probe",
            "test \"$(basename \"$(readlink /sys/bus/pci/devices/0000:00:06.0/driver)\")\" ="
                + " vfio-pci");
  }

  @Test
  void bindingByNvmeNameReportsBeforeAndAfterAsJson() {
    CommandResult r = upcie("devbind", "bind", "vfio-pci", "nvme0", "--sysfs-root", SIM, "--json");

    assertThat(r.exit()).as("stderr: %s", r.err()).isZero();
    assertThat(r.out())
        .contains("\"schema\": \"upcie.devbind.move/1\"")
        .contains("\"dry_run\": false")
        .contains("\"address\": \"0000:00:05.0\"")
        .containsSubsequence(
            "\"before\"", "\"driver\": \"nvme\"", "\"after\"", "\"driver\": \"vfio-pci\"")
        .contains("\"changed\": true");
  }

  @Test
  void transientClearsTheOverrideAndUnbindLeavesNoDriver() {
    CommandResult bound =
        upcie("devbind", "bind", "uio_pci_generic", "00:06.0", "--transient", "--sysfs-root", SIM);
    assertThat(bound.out()).isEqualTo("0000:00:06.0: no driver -> uio_pci_generic\n");

    CommandResult unbound = upcie("devbind", "unbind", "00:05.0", "--sysfs-root", SIM);
    assertThat(unbound.out()).isEqualTo("0000:00:05.0: nvme -> no driver\n");
  }

  @Test
  void restoreWithNoJournalHandsAFunctionBackToTheKernelsDriver() {
    CommandResult r = upcie("devbind", "restore", "00:05.0", "--sysfs-root", VFIO_RECORDING);

    assertThat(r.exit()).as("stderr: %s", r.err()).isZero();
    assertThat(r.out()).isEqualTo("0000:00:05.0: vfio-pci (override vfio-pci) -> nvme\n");
  }

  @Test
  void badInputIsAUsageErrorAndAMissingModuleAnEnvironmentProblem(@TempDir Path copy) {
    upcie("devbind", "bind", "vfio-pci", "00:05.0", "--sysfs-root", SIM, "--force=bogus")
        .assertOneLineError(
            2,
            "--force=bogus: no such check; the checks are mounted, swap, held, open, network,"
                + " group");
    upcie("devbind", "bind", "vfio-pci", "00:05.0", "--sysfs-root", SIM, "--timeout", "0")
        .assertOneLineError(2, "--timeout 0: give a number of seconds from 1 to 3600");
    upcie("devbind", "bind", "vfio-pci", "00:09.0", "--sysfs-root", SIM)
        .assertOneLineError(3, "no PCI function 00:09.0 in /sys/bus/pci/devices");
    upcie("devbind", "bind", "vfio-pci", "00:05.0", "--sysfs-root", SIM, "--persist", "--transient")
        .assertOneLineError(2, "choose one");
    upcie("devbind", "restore", "--sysfs-root", SIM)
        .assertOneLineError(2, "name the functions to restore, or give --all (not both)");
    upcie("devbind", "bind", "vfio-pci", "00:05.0", "--sysfs-root", copy.toString())
        .assertOneLineError(2, "is a copy with no kernel behind it, so it takes moves only with");
    upcie("devbind", "bind", "igb_uio", "00:05.0", "--sysfs-root", SIM)
        .assertOneLineError(7, "`modprobe igb_uio` failed: modprobe: FATAL: Module igb_uio not");
  }

  private static CommandResult upcie(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Upcie.run(args, new PrintWriter(out), new PrintWriter(err));
    return new CommandResult(exit, out.toString(), err.toString());
  }
}
