package com.example;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.driver.IdentifyController;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.QueuePairOptions;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.SimMachine;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The README's NVMe driver example, verbatim (ci/ExamplesCheck.java compares them), laid out as the
 * README shows it. It passes if the driver brings the simulated controller up, writes 1 MiB, reads
 * a block back with no error, and shuts the controller down.
 */
class NvmeDriverExampleTest {
  @Test
  void bringsUpWritesReadsAndShutsDown() {
    PciSelector selector = PciSelector.any().withClass(PciClassCode.NVME);
    try (SimMachine machine = SimMachine.qemuQ35Vfio();
        PciDeviceHandle device = DeviceBackends.named("sim").open(selector, machine);
        NvmeController nvme = NvmeController.open(device);           // disable, admin queues, enable
        NvmeQueuePair io = nvme.createQueuePair(QueuePairOptions.depth(64));
        DmaHeap heap = device.dma().heap(4 << 20);
        DmaBuffer buffer = heap.allocate(1 << 20, 4096)) {
      IdentifyController id = nvme.identify();                      // sn, mn, fr, mdts, oncs, ...
      NvmeNamespace ns = nvme.namespace(1);                         // block size and size checked
      io.write(ns, 0, (1 << 20) / ns.blockSize(), buffer, 0);       // split by MDTS, in flight together
      io.submitRead(ns, 8, 1, buffer, 0, 42);                       // asynchronous, tag 42
      io.await(1, Duration.ofSeconds(1), (tag, result, error) -> { if (error != null) throw error; });
    }                                                               // CC.SHN, then disabled
  }
}
