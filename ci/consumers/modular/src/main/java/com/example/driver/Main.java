package com.example.driver;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeVersion;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.QueuePairOptions;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import java.lang.foreign.ValueLayout;

/**
 * Opens an NVMe controller on whichever backend can serve it, prints its version, then brings it
 * up with the reference driver and writes and reads back one block.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.out.println("backends: " + DeviceBackends.names());
    PciSelector nvme = PciSelector.any().withId(PciId.parse("1b36:0010"));
    String backend = args.length > 0 ? args[0] : DeviceBackends.AUTO;
    try (PciDeviceHandle handle =
        DeviceBackends.choose(backend, nvme, b -> b.defaultHost()).open()) {
      NvmeVersion vs = new NvmeVersion((int) handle.bar(0).read(NvmeRegisters.VS));
      System.out.println(handle.address() + " on " + handle.backend() + ": NVMe " + vs);
      try (NvmeController controller = NvmeController.open(handle);
          NvmeQueuePair io = controller.createQueuePair(QueuePairOptions.depth(8));
          DmaHeap heap = handle.dma().heap(2 << 20);
          DmaBuffer out = heap.allocate(4096, 4096);
          DmaBuffer in = heap.allocate(4096, 4096)) {
        NvmeNamespace ns = controller.namespace(1);
        out.segment().fill((byte) 0x42);
        long blocks = 4096 / ns.blockSize();
        io.write(ns, 0, blocks, out, 0);
        io.read(ns, 0, blocks, in, 0);
        long differs = in.segment().mismatch(out.segment());
        System.out.println(
            "driver: "
                + controller.identify().modelNumber()
                + ", namespaces "
                + controller.activeNamespaces()
                + ", "
                + (differs < 0 ? "read back what it wrote" : "differs at byte " + differs));
        if (differs >= 0 || in.segment().get(ValueLayout.JAVA_BYTE, 0) != 0x42) {
          throw new IllegalStateException("the block read back is not the one written");
        }
      }
    }
  }
}
