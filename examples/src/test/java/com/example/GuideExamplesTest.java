package com.example;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.junit.OnEveryBackend;
import dev.upcie.junit.PciDevice;
import dev.upcie.junit.SimulatedMachine;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.nvme.driver.NvmeCommandException;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.sim.nvme.CommandMatch;
import dev.upcie.sim.nvme.NvmeModel;
import org.junit.jupiter.api.Test;

/** docs/testing.md's three examples, verbatim (ci/ExamplesCheck.java compares them). */
class GuideExamplesTest {

  // 1. A simple test: on the simulator unless the run says otherwise.
  @Test
  void readsWhatItWrote(@PciDevice(classCode = "010802") NvmeController nvme) {
    NvmeNamespace ns = nvme.namespace(1);
    try (NvmeQueuePair io = nvme.createQueuePair();
        DmaHeap heap = nvme.device().dma().heap(1 << 20);
        DmaBuffer buffer = heap.allocate(8192, 4096)) {
      buffer.segment().asSlice(0, 4096).fill((byte) 0x5a);
      io.write(ns, 0, 4096 / ns.blockSize(), buffer, 0);
      io.read(ns, 0, 4096 / ns.blockSize(), buffer, 4096);
      assertThat(buffer.segment().asSlice(4096, 4096).mismatch(buffer.segment().asSlice(0, 4096)))
          .isEqualTo(-1);
    }
  }

  // 2. Fault injection: the model behind the controller fails the next read.
  @Test
  @SimulatedMachine(time = SimulatedMachine.Time.VIRTUAL)
  void aFailedReadIsReportedWithItsStatus(
      @PciDevice(classCode = "010802") NvmeController nvme,
      @PciDevice(classCode = "010802") NvmeModel model) {
    model
        .faults()
        .failNext(CommandMatch.io(NvmeOpcodes.IO_READ), NvmeStatus.UNRECOVERED_READ_ERROR);
    NvmeNamespace ns = nvme.namespace(1);
    try (NvmeQueuePair io = nvme.createQueuePair();
        DmaHeap heap = nvme.device().dma().heap(1 << 20);
        DmaBuffer buffer = heap.allocate(4096, 4096)) {
      assertThatThrownBy(() -> io.read(ns, 0, 1, buffer, 0))
          .isInstanceOfSatisfying(
              NvmeCommandException.class,
              e -> assertThat(e.status()).isEqualTo(NvmeStatus.UNRECOVERED_READ_ERROR));
    }
  }

  // 3. One test, every backend: [sim] here, [vfio] and [uio] where a controller is bound to them.
  @OnEveryBackend
  void speaksNvme1x(@PciDevice(classCode = "010802") Mmio bar0) {
    assertThat(NvmeRegisters.VS_MJR.get(bar0.read(NvmeRegisters.VS))).isEqualTo(1);
  }
}
