package dev.upcie.tools.devbind;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.pci.PciAddress;
import dev.upcie.sim.SimMachine;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** What --persist writes: driverctl's file, one per function, holding the driver's name. */
class PersistenceTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");

  @Test
  void aPersistedBindingIsDriverctlsFileAndRestoreForgetsIt() {
    try (SimMachine machine = SimMachine.qemuQ35()) {
      Persistence persistence = Persistence.of(machine);
      Path file = persistence.file(NVME);

      persistence.persist(NVME, "vfio-pci");

      assertThat(file.toString()).isEqualTo("/etc/driverctl.d/pci-0000:00:05.0");
      assertThat(file).hasContent("vfio-pci");
      assertThat(persistence.forget(NVME)).isTrue();
      assertThat(file).doesNotExist();
      assertThat(persistence.forget(NVME)).as("nothing left to forget").isFalse();
    }
  }
}
