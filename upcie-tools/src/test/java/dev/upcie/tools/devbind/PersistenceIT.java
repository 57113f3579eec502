package dev.upcie.tools.devbind;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.upcie.host.Host;
import dev.upcie.pci.PciAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A binding persisted by {@code --persist} is one driverctl applies: its {@code load-override}
 * (what its udev rule runs at boot) reads our file and writes that driver to the function's {@code
 * driver_override}.
 *
 * <p>The address is one no machine has (bus 0xff), and driverctl is pointed through {@code
 * DEVPATH}, as udev calls it, at a stand-in directory holding only a {@code driver_override} file:
 * nothing of this machine is touched, and the persisted file is removed.
 */
class PersistenceIT {
  private static final PciAddress NOWHERE = PciAddress.parse("0000:ff:1f.7");

  @Test
  void driverctlLoadsWhatPersistWrites(@TempDir Path device) throws Exception {
    boolean present = Files.isExecutable(Path.of("/usr/sbin/driverctl"));
    if (!Boolean.getBoolean("upcie.ci")) {
      assumeTrue(present, "driverctl is not installed (Debian package driverctl)");
      assumeTrue(Files.isWritable(Path.of("/etc")), "/etc is not writable: not root");
    }
    assertThat(present).as("driverctl, which ci/setup installs").isTrue();
    // driverctl modprobes a driver unless /sys/module has it: use one this kernel has loaded.
    String driver =
        java.util.List.of("virtio_pci", "pcieport", "nvme", "vfio_pci").stream()
            .filter(d -> Files.isDirectory(Path.of("/sys/module", d)))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no PCI driver module in /sys/module"));
    Files.writeString(device.resolve("driver_override"), "");
    Persistence persistence = Persistence.of(Host.system());
    assertThat(persistence.file(NOWHERE)).as("left by an earlier run").doesNotExist();
    try {
      persistence.persist(NOWHERE, driver);

      ProcessBuilder builder =
          new ProcessBuilder("driverctl", "--noprobe", "load-override", NOWHERE.toString())
              .redirectErrorStream(true);
      // driverctl takes the device's path below /sys from udev's DEVPATH when it is set.
      Map<String, String> env = builder.environment();
      env.put("DEVPATH", "/.." + device.toAbsolutePath());
      Process driverctl = builder.start();
      String out = new String(driverctl.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(driverctl.waitFor(60, TimeUnit.SECONDS)).isTrue();
      assertThat(driverctl.exitValue()).as("driverctl load-override: %s", out).isZero();
      assertThat(device.resolve("driver_override")).hasContent(driver);
    } finally {
      persistence.forget(NOWHERE);
    }
    assertThat(persistence.file(NOWHERE)).doesNotExist();
  }
}
