package dev.upcie.sim.sysfs;

import dev.upcie.hugepages.PageSize;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciSelector;

/**
 * The simulated kernel most sysfs tests start from: QEMU's NVMe controller on {@code nvme} and an
 * {@code edu} with no driver, the drivers {@code nvme}, {@code vfio-pci} and {@code
 * uio_pci_generic}, a 2M hugepage pool with room for 8 pages, and no hardware behind either
 * function.
 */
final class TwoFunctionMachine {
  private TwoFunctionMachine() {}

  static SimSysfs build() {
    return SimSysfs.builder()
        .driver(SimDriver.claiming("nvme", PciSelector.any().withClass(PciClassCode.NVME)))
        .driver(SimDriver.overrideOnly("vfio-pci"))
        .driver(SimDriver.overrideOnly("uio_pci_generic"))
        .function(
            SimFunction.builder("0000:00:05.0")
                .id(0x1b36, 0x0010)
                .subsystem(0x1af4, 0x1100)
                .classCode(0x010802)
                .revision(2)
                .bar64(0, 16384)
                .driver("nvme")
                .iommuGroup(5)
                .build())
        .function(
            SimFunction.builder("0000:00:06.0")
                .id(0x1234, 0x11e8)
                .classCode(0x00ff00)
                .bar(0, 1 << 20)
                .iommuGroup(6)
                .numaNode(0)
                .build())
        .hugepages(PageSize.parse("2M"), 8)
        .build();
  }
}
