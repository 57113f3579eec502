package dev.upcie.bench.guest;

import dev.upcie.backend.DeviceBackend;
import dev.upcie.backend.DeviceBackends;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.edu.EduRegisters;

/**
 * Opens QEMU's {@code edu} device for a benchmark on the backend the system property {@code
 * upcie.backend} names: these benchmarks run in the QEMU guests, where the device is bound.
 */
final class GuestDevice {
  private GuestDevice() {}

  static PciDeviceHandle openEdu() {
    String name = System.getProperty("upcie.backend");
    if (name == null) {
      throw new IllegalStateException(
          "set -Dupcie.backend=vfio or uio: this benchmark needs QEMU's edu device, which the QEMU"
              + " guests of it-qemu bind (see docs/benchmarks.md)");
    }
    DeviceBackend backend = DeviceBackends.named(name);
    return backend.open(
        PciSelector.any().withId(PciId.parse(EduRegisters.ID_STRING)), backend.defaultHost());
  }
}
