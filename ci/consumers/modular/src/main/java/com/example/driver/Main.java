package com.example.driver;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeVersion;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;

/** Opens an NVMe controller on whichever backend can serve it and prints its version. */
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
    }
  }
}
