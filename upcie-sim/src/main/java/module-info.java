/**
 * The uPCIe simulator: a simulated machine (a sysfs with the kernel's write semantics, device
 * models behind register-file BARs) that stands in for the real one, as the {@code sim} backend.
 */
@SuppressWarnings("requires-automatic") // jimfs has an Automatic-Module-Name, no descriptor
module dev.upcie.sim {
  requires transitive dev.upcie.core;
  requires com.google.common.jimfs;
  // jimfs needs Guava, but as an automatic module it cannot say so: without this line Guava is not
  // resolved on a user's module path and the first simulated machine fails with
  // NoClassDefFoundError.
  requires com.google.common;

  exports dev.upcie.sim;
  exports dev.upcie.sim.edu;
  exports dev.upcie.sim.iommu;
  exports dev.upcie.sim.mmio;
  exports dev.upcie.sim.model;
  exports dev.upcie.sim.nvme;
  exports dev.upcie.sim.sysfs;
  exports dev.upcie.sim.trace;

  provides dev.upcie.backend.DeviceBackend with
      dev.upcie.sim.SimBackend;
}
