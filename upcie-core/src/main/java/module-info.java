/**
 * uPCIe for Java: user-space PCIe drivers through the Foreign Function and Memory API.
 *
 * <p>A driver opens a {@link dev.upcie.pci.PciDeviceHandle} through a {@link
 * dev.upcie.backend.DeviceBackend} ({@code vfio}, {@code uio}, or the simulator's {@code sim}) and
 * uses its BARs, configuration space, DMA memory and interrupts. The native layer and the backends'
 * internals are not exported.
 *
 * <p>The module makes system calls: grant it native access, {@code
 * --enable-native-access=dev.upcie.core} on the module path or {@code
 * --enable-native-access=ALL-UNNAMED} on the class path.
 */
module dev.upcie.core {
  exports dev.upcie.backend;
  exports dev.upcie.dma;
  exports dev.upcie.doctor;
  exports dev.upcie.errno;
  exports dev.upcie.host;
  exports dev.upcie.hugepages;
  exports dev.upcie.interrupt;
  exports dev.upcie.memory;
  exports dev.upcie.mmio;
  exports dev.upcie.nvme;
  exports dev.upcie.nvme.driver;
  exports dev.upcie.pci;
  exports dev.upcie.procfs;
  exports dev.upcie.register;
  exports dev.upcie.support;
  exports dev.upcie.sysfs;

  uses dev.upcie.backend.DeviceBackend;

  provides dev.upcie.backend.DeviceBackend with
      dev.upcie.vfio.VfioBackend,
      dev.upcie.uio.UioBackend;
}
