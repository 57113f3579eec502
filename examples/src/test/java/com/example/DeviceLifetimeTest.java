package com.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.junit.PciDevice;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciDeviceHandle;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

/** The user's JUnit closes the device after the test, under JUnit 5.14 as under 6. */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class DeviceLifetimeTest {
  static PciDeviceHandle fromFirstTest;

  @Test
  @Order(1)
  void keepsTheDevice(@PciDevice(id = "1b36:0010") PciDeviceHandle nvme) {
    fromFirstTest = nvme;
    assertThat(nvme.bar(0).read(NvmeRegisters.VS)).isNotZero();
  }

  @Test
  @Order(2)
  void theDeviceWasClosedAfterTheTest() {
    assertThatThrownBy(() -> fromFirstTest.bar(0).read(NvmeRegisters.VS))
        .isInstanceOf(IllegalStateException.class);
  }
}
