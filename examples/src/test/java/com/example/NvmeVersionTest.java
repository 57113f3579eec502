package com.example;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.junit.PciDevice;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeVersion;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciDeviceHandle;
import org.junit.jupiter.api.Test;

/** A controller's version register and config space, as a user's test reads them. */
class NvmeVersionTest {
  @Test
  void reportsNvme1x(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
    NvmeVersion vs = new NvmeVersion((int) nvme.bar(0).read(NvmeRegisters.VS));
    assertThat(vs.major()).isEqualTo(1);
  }

  @Test
  void configSpaceNamesTheController(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    assertThat(nvme.config().read16(0)).isEqualTo(0x1b36);
    assertThat(nvme.config().capability(PciCapability.MSIX)).isPresent();
  }
}
