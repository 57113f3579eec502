package com.example;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.junit.PciDevice;
import dev.upcie.nvme.driver.NvmeController;
import org.junit.jupiter.api.Test;

class IdentifyTest {
  @Test
  void identifiesQemusController(@PciDevice(classCode = "010802") NvmeController nvme) {
    assertThat(nvme.identify().modelNumber()).isEqualTo("QEMU NVMe Ctrl");
  }
}
