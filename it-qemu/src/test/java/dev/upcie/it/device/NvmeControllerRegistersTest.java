package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.junit.PciDevice;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCap;
import dev.upcie.nvme.NvmeCsts;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeVersion;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciDeviceHandle;
import org.junit.jupiter.api.Test;

/**
 * What any NVMe controller's BAR0 must show, whoever made it: the simulator (the ordinary test
 * phase), QEMU through VFIO (the guest run of {@code QemuVfioIT}), or real hardware.
 *
 * <p>Nothing here writes a register, so it is safe on any controller bound to vfio-pci.
 */
public class NvmeControllerRegistersTest {
  /** Set by whoever runs these tests on a real backend, so a silent fallback cannot pass. */
  static final String EXPECTED_BACKEND = "upcie.it.expectedBackend";

  @Test
  void runsOnTheBackendTheRunAskedFor(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
    assertThat(nvme.backend()).isEqualTo(System.getProperty(EXPECTED_BACKEND, "sim"));
    assertThat(nvme.function().classCode()).isEqualTo(PciClassCode.NVME);
  }

  @Test
  void versionIsNvme1OrLater(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
    NvmeVersion vs = new NvmeVersion(nvme.bar(0).getIntVolatile(NvmeRegisters.VS.offset()));

    assertThat(vs.major()).as("VS %s", vs).isGreaterThanOrEqualTo(1);
    assertThat(vs.value()).as("all ones means no device answered").isNotEqualTo(-1);
  }

  @Test
  void capabilitiesDescribeAUsableController(
      @PciDevice(classCode = "010802") PciDeviceHandle nvme) {
    NvmeCap cap = new NvmeCap(nvme.bar(0).getLongVolatile(NvmeRegisters.CAP.offset()));

    assertThat(cap.mqes()).as("CAP.MQES").isPositive();
    assertThat(cap.to()).as("CAP.TO").isPositive();
    assertThat(cap.css() & 1).as("CAP.CSS: the NVM command set").isEqualTo(1);
    assertThat(cap.minPageSize()).isLessThanOrEqualTo(cap.maxPageSize());
    assertThat(cap.minPageSize()).as("CAP.MPSMIN").isEqualTo(4096);
  }

  @Test
  void bothHalvesOfCapReadAsTheWhole(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
    Mmio bar0 = nvme.bar(0);
    long whole = bar0.getLongVolatile(NvmeRegisters.CAP.offset());
    long halves =
        Integer.toUnsignedLong(bar0.getIntVolatile(NvmeRegisters.CAP.offset()))
            | (long) bar0.getIntVolatile(NvmeRegisters.CAP.offset() + 4) << 32;

    assertThat(halves).isEqualTo(whole);
  }

  @Test
  void statusIsReadableAndNotFatal(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
    NvmeCsts csts = new NvmeCsts(nvme.bar(0).getIntVolatile(NvmeRegisters.CSTS.offset()));

    assertThat(csts.isAllOnes()).as("CSTS all ones: the device did not answer").isFalse();
    assertThat(csts.cfs()).as("CSTS.CFS").isFalse();
  }

  @Test
  void bar0HoldsRegistersAndDoorbellsAndNothingOutsideIsReachable(
      @PciDevice(classCode = "010802") PciDeviceHandle nvme) {
    Mmio bar0 = nvme.bar(0);

    assertThat(bar0.size()).isGreaterThan(NvmeRegisters.DOORBELLS);
    assertThatThrownBy(() -> bar0.getIntVolatile(bar0.size()))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessageContaining("outside BAR0");
    assertThatThrownBy(() -> bar0.getLongVolatile(NvmeRegisters.VS.offset() + 4))
        .as("a misaligned 64-bit access")
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aClosedDeviceRefusesAccessInsteadOfCrashing(
      @PciDevice(classCode = "010802") PciDeviceHandle nvme) {
    Mmio bar0 = nvme.bar(0);
    nvme.close();

    assertThatThrownBy(() -> bar0.getIntVolatile(NvmeRegisters.VS.offset()))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> nvme.bar(0)).isInstanceOf(IllegalStateException.class);
  }
}
