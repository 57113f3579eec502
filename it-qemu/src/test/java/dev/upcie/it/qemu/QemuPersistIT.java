package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code devbind bind --persist} across a reboot: the first boot binds {@code edu} to {@code
 * vfio-pci} with {@code --persist}; the second boots the same machine, where {@code edu} starts
 * with no driver, and applies what was persisted the way driverctl does at boot; then {@code
 * devbind restore} forgets it.
 *
 * <p>The guest has no udev or systemd, so the second boot runs what driverctl's udev rule starts
 * for a function that has a persisted file ({@code driverctl@pci-ADDRESS.service}: {@code driverctl
 * load-override ADDRESS}). Its {@code /etc} is the host's, read-only, so both boots mount a
 * directory of the results share over {@code /etc/driverctl.d}: the persisted file outlives the
 * first boot there, as it would on the machine's disk.
 */
class QemuPersistIT {
  /** Where QEMU puts {@code edu} in this guest, which has no other device after the defaults. */
  private static final String EDU = "0000:00:05.0";

  private static QemuGuest.Run first;
  private static QemuGuest.Run second;
  private static Path persisted;

  @BeforeAll
  static void bootTwice() throws Exception {
    QemuEnvironment environment = QemuEnvironment.require();
    QemuGuest guest =
        new QemuGuest(environment, Path.of("target/qemu/persist"))
            .iommu(true)
            .timeout(Duration.ofSeconds(Long.getLong("upcie.qemu.timeout", 600)))
            .edu();
    Path results = guest.results();
    Path etc = results.resolve("driverctl.d");
    if (Files.isDirectory(etc)) {
      try (var files = Files.list(etc)) {
        for (Path f : files.toList()) {
          Files.delete(f);
        }
      }
    }
    Files.createDirectories(etc);
    persisted = etc.resolve("pci-" + EDU);
    first =
        guest.run(
            script(
                results,
                "jvm bind -jar \"$JAR\" devbind bind vfio-pci 1234:11e8 --persist",
                "echo \"persist-file: $(cat /etc/driverctl.d/pci-" + EDU + ")\""));
    second =
        guest.run(
            script(
                results,
                "echo \"before-load: driver=$(driver) override=$(cat $DEV/driver_override)\"",
                "for f in /etc/driverctl.d/pci-*; do driverctl load-override \"${f#/etc/driverctl.d/pci-}\"; done",
                "echo \"after-load: driver=$(driver) override=$(cat $DEV/driver_override)\"",
                "jvm restore -jar \"$JAR\" devbind restore 1234:11e8",
                "echo \"after-restore: driver=$(driver) persisted=$(ls /etc/driverctl.d | wc -l)\""));
  }

  /** A guest script: the persisted directory mounted, then {@code commands}. */
  private static String script(Path results, String... commands) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return """
    set -eu
    export PATH=/usr/sbin:/usr/bin:/sbin:/bin
    mkdir -p /run/tmp
    mount --bind '%2$s/driverctl.d' /etc/driverctl.d
    JAR='%3$s'
    DEV=/sys/bus/pci/devices/%4$s
    driver() { if [ -e $DEV/driver ]; then basename "$(readlink $DEV/driver)"; else echo none; fi; }
    jvm() {
      label=$1
      shift
      rc=0
      '%1$s' -XX:-UsePerfData -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \\
        -Djava.io.tmpdir=/run/tmp "$@" || rc=$?
      echo "upcie-guest: $label exit $rc"
      return $rc
    }
    %5$s
    """
        .formatted(java, results, GuestSuite.TOOLS_JAR, EDU, String.join("\n", commands));
  }

  @Test
  void theFirstBootBindsAndPersistsInDriverctlsFormat() {
    assertThat(first.status()).as("console:%n%s", first.tail(60)).isZero();
    assertThat(first.console())
        .contains(EDU + ": no driver -> vfio-pci (override vfio-pci)")
        .contains("persist-file: vfio-pci");
  }

  @Test
  void theSecondBootStartsUnboundAndDriverctlAppliesWhatWasPersisted() {
    assertThat(second.status()).as("console:%n%s", second.tail(60)).isZero();
    assertThat(second.console())
        .as("console:%n%s", second.tail(60))
        .contains("before-load: driver=none override=(null)")
        .contains("after-load: driver=vfio-pci override=vfio-pci");
  }

  @Test
  void restoreForgetsThePersistedBinding() {
    assertThat(second.console())
        .as("console:%n%s", second.tail(60))
        .contains("forgot its persisted binding /etc/driverctl.d/pci-" + EDU)
        .contains("after-restore: driver=none persisted=0");
    assertThat(persisted).doesNotExist();
  }
}
