package dev.upcie.doctor;

import dev.upcie.doctor.Finding.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The kernel drivers the backends bind functions to, and lockdown, which stops one of them. */
final class DriverChecks {
  private final Facts facts;
  private final Trees trees;

  DriverChecks(Facts facts) {
    this.facts = facts;
    this.trees = facts.trees();
  }

  Finding vfioModules() {
    KernelModules.State pci = facts.vfioPci();
    KernelModules.State type1 = facts.modules().state("vfio_iommu_type1", Optional.empty());
    List<String> parts = new ArrayList<>();
    if (pci.kind() == KernelModules.Kind.UNKNOWN && type1.kind() == KernelModules.Kind.UNKNOWN) {
      // One missing index answers for both; saying it twice only buries the point.
      parts.add(
          "vfio_pci and vfio_iommu_type1 are not loaded, and whether they could be is unknown ("
              + pci.evidence()
              + ")");
    } else {
      parts.add(pci.describe());
      parts.add(type1.describe());
    }
    facts.iommuParameters().stream()
        .filter(p -> p.startsWith("vfio-pci.ids=") || p.startsWith("vfio_pci.ids="))
        .findFirst()
        .ifPresent(p -> parts.add("the kernel command line gives vfio-pci " + p));
    String found = String.join("; ", parts);
    if (pci.present()) {
      // Without type1 there is no container to map DMA in; modprobe vfio-pci pulls it in as a
      // soft dependency, so it is missing only when vfio-pci was built in or loaded by hand.
      if (facts.iommuOn() && !type1.present() && type1.available()) {
        return Finding.of(
            "vfio-modules",
            Status.WARNING,
            found + ": VFIO has no type1 IOMMU driver for its containers",
            "modprobe vfio_iommu_type1");
      }
      return Finding.ok("vfio-modules", found);
    }
    Status missing = facts.uioPossible() ? Status.WARNING : Status.PROBLEM;
    return switch (pci.kind()) {
      case LOADABLE -> {
        Optional<String> disabled = facts.modules().loadingDisabled();
        yield disabled.isPresent()
            ? Finding.of("vfio-modules", missing, found + ", but " + disabled.get(), "reboot")
            : Finding.of("vfio-modules", Status.WARNING, found, "modprobe vfio-pci");
      }
      case ABSENT ->
          Finding.of(
              "vfio-modules",
              missing,
              found + ": this kernel was built without CONFIG_VFIO_PCI; use a kernel with it",
              null);
      default -> Finding.of("vfio-modules", Status.UNKNOWN, found, null);
    };
  }

  Finding uioModules() {
    KernelModules.State generic = facts.uioPciGeneric();
    List<String> parts = new ArrayList<>(List.of(generic.describe()));
    if (trees.sysExists("bus/pci/drivers/igb_uio")) {
      parts.add(
          "DPDK's out-of-tree igb_uio is loaded ("
              + trees.sysPath("bus/pci/drivers/igb_uio")
              + ")");
    }
    String found = String.join("; ", parts);
    if (generic.present()) {
      return Finding.ok("uio-modules", found);
    }
    Status missing = facts.vfioPossible() ? Status.WARNING : Status.PROBLEM;
    return switch (generic.kind()) {
      case LOADABLE -> {
        Optional<String> disabled = facts.modules().loadingDisabled();
        yield disabled.isPresent()
            ? Finding.of("uio-modules", missing, found + ", but " + disabled.get(), "reboot")
            : Finding.of("uio-modules", Status.WARNING, found, "modprobe uio_pci_generic");
      }
      case ABSENT ->
          Finding.of(
              "uio-modules",
              missing,
              found
                  + ": this kernel was built without CONFIG_UIO_PCI_GENERIC; use a kernel with it"
                  + " or the vfio backend",
              null);
      default -> Finding.of("uio-modules", Status.UNKNOWN, found, null);
    };
  }

  Finding lockdown() {
    String file = "kernel/security/lockdown";
    Optional<String> content = trees.sys(file);
    if (content.isEmpty()) {
      boolean securityfs =
          facts.trees().host().procfs().mounts().stream()
              .anyMatch(m -> m.type().equals("securityfs"));
      if (securityfs) {
        return Finding.ok(
            "lockdown",
            "the kernel has no lockdown (no " + trees.sysPath(file) + " in a mounted securityfs)");
      }
      return Finding.of(
          "lockdown",
          Status.UNKNOWN,
          "whether the kernel is locked down is unknown: securityfs is not mounted, so there is no "
              + trees.sysPath(file),
          "mount -t securityfs securityfs " + trees.sysPath("kernel/security"));
    }
    Optional<String> mode = facts.lockdown();
    if (mode.isEmpty()) {
      return Finding.ok(
          "lockdown",
          "the kernel is not locked down (" + trees.sysPath(file) + ": " + content.get() + ")");
    }
    return Finding.of(
        "lockdown",
        Status.WARNING,
        "the kernel is locked down ("
            + mode.get()
            + ", "
            + trees.sysPath(file)
            + "), as Secure Boot makes it: it refuses to map BARs through sysfs resourceN and to"
            + " write config space through sysfs, which the uio backend needs, and to load"
            + " unsigned modules such as an out-of-tree igb_uio; the vfio backend is unaffected."
            + " Lockdown cannot be lifted at runtime: switch off Secure Boot validation and"
            + " reboot",
        "mokutil --disable-validation && reboot");
  }
}
