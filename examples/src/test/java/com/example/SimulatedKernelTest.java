package com.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.errno.Errno;
import dev.upcie.pci.BindOptions;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.sysfs.SysfsRecording;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The simulator's kernel as a user's test meets it: a failing bind, and a machine of their own. */
class SimulatedKernelTest {
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");

  @Test
  void myBinderRetriesAProbeThatFailsOnce() {
    try (SimMachine machine = SimMachine.qemuQ35()) {
      machine.sysfs().faults().failNextBind(EDU, Errno.ENOMEM);

      // drivers_probe swallows the probe's errno: the binder sees no driver and probes again.
      new PciDriverBinder(machine).bind(EDU, "vfio-pci");

      assertThat(machine.bus().function(EDU).isBoundTo("vfio-pci")).isTrue();
      assertThat(machine.dev().resolve("vfio/6")).exists();
    }
  }

  @Test
  void myBinderRollsBackAProbeThatKeepsFailing() {
    try (SimMachine machine = SimMachine.qemuQ35()) {
      machine.sysfs().faults().failNextBind(EDU, Errno.ENOMEM);
      PciDriverBinder binder = new PciDriverBinder(machine);

      assertThatThrownBy(
              () -> binder.bind(EDU, "vfio-pci", BindOptions.defaults().withProbeAttempts(1), null))
          .hasMessageContaining("the driver refused it")
          .hasMessageContaining("restored 0000:00:06.0 with no driver");
      assertThat(machine.bus().function(EDU).driverOverride()).isEmpty();
    }
  }

  @Test
  void aRecordingOfMyMachineLoads(@TempDir Path dir) throws Exception {
    byte[] config = new byte[256];
    config[0] = 0x34;
    config[1] = 0x12;
    config[2] = (byte) 0xe8;
    config[3] = 0x11;
    Path file =
        Files.writeString(
            dir.resolve("mine.umockdev"),
            String.join(
                "\n",
                "P: /devices/pci0000:00/0000:00:06.0",
                "E: SUBSYSTEM=pci",
                "A: vendor=0x1234\\n",
                "A: device=0x11e8\\n",
                "A: subsystem_vendor=0x1af4\\n",
                "A: subsystem_device=0x1100\\n",
                "A: class=0x00ff00\\n",
                "A: revision=0x10\\n",
                "A: resource=0x00000000fea00000 0x00000000feafffff 0x0000000000040200\\n",
                "H: config=" + HexFormat.of().formatHex(config),
                ""));

    SysfsRecording recording = SysfsRecording.load(file);
    assertThat(recording.functions()).containsExactly(EDU);
    assertThat(recording.defaults()).isNotEmpty();
    try (SimMachine machine = SimMachine.fromRecording(file)) {
      assertThat(machine.hasModel(EDU)).as("an edu model fits the recorded edu").isTrue();
    }
  }
}
