package com.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.junit.PciDevice;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.pci.PciDeviceHandle;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The NVMe driver on a handle @PciDevice opened: written, read back, and a range refused. */
class NvmeDriverUserTest {
  @Test
  void writesAndReadsBack(@PciDevice(id = "1b36:0010") PciDeviceHandle device) {
    try (NvmeController nvme = NvmeController.open(device);
        NvmeQueuePair io = nvme.createQueuePair();
        DmaHeap heap = device.dma().heap(2 << 20);
        DmaBuffer buffer = heap.allocate(8192, 4096)) {
      assertThat(nvme.identify().modelNumber()).isEqualTo("QEMU NVMe Ctrl");
      NvmeNamespace ns = nvme.namespace(2);
      buffer.segment().fill((byte) 7);
      io.write(ns, 3, 1, buffer, 0);
      io.submitRead(ns, 3, 1, buffer, 4096, 1);
      io.await(1, Duration.ofSeconds(5), (tag, result, error) -> assertThat(error).isNull());
      assertThat(buffer.segment().asSlice(4096, 4096).mismatch(buffer.segment().asSlice(0, 4096)))
          .isEqualTo(-1);
      assertThatThrownBy(() -> io.read(ns, ns.blocks(), 1, buffer, 0))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("outside namespace 2");
    }
  }
}
