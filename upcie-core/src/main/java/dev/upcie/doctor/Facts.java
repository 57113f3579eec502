package dev.upcie.doctor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What several checks depend on, read once: the kernel command line, whether there is an IOMMU,
 * no-IOMMU mode, the VFIO and UIO drivers, lockdown. A check's status depends on the others (no
 * IOMMU is a problem only if UIO cannot stand in), so these answer leniently: what cannot be read
 * counts as possible, and the check that owns it reports UNKNOWN.
 */
final class Facts {
  /** The kernel's module and group names for no-IOMMU groups. */
  static final String NOIOMMU_GROUP_NAME = "vfio-noiommu";

  static final String NOIOMMU_PARAMETER = "module/vfio/parameters/enable_unsafe_noiommu_mode";

  private final Trees trees;
  private final KernelModules modules;
  private KernelModules.State vfioPci;
  private KernelModules.State uioPciGeneric;

  Facts(Trees trees) {
    this.trees = trees;
    this.modules = new KernelModules(trees);
  }

  Trees trees() {
    return trees;
  }

  KernelModules modules() {
    return modules;
  }

  /** The words of {@code /proc/cmdline}, empty if it is missing. */
  List<String> cmdline() {
    return trees.proc("cmdline").map(c -> Arrays.asList(c.strip().split("\\s+"))).orElse(List.of());
  }

  /** The parameters of the command line that bear on IOMMUs and VFIO, in its order. */
  List<String> iommuParameters() {
    List<String> relevant = new ArrayList<>();
    for (String word : cmdline()) {
      if (word.startsWith("intel_iommu=")
          || word.startsWith("amd_iommu=")
          || word.startsWith("iommu=")
          || word.startsWith("iommu.")
          || word.startsWith("vfio-pci.")
          || word.startsWith("vfio_pci.")
          || word.startsWith("vfio.")
          || word.startsWith("vfio_iommu_type1.")) {
        relevant.add(word);
      }
    }
    return relevant;
  }

  /** The IOMMU units in {@code /sys/class/iommu} ({@code dmar0}, {@code ivhd0}). */
  List<String> iommuUnits() {
    return trees.sysList("class/iommu");
  }

  /** The IOMMU groups, split into those of an IOMMU and vfio's no-IOMMU ones. */
  Groups groups() {
    List<String> real = new ArrayList<>();
    List<String> noiommu = new ArrayList<>();
    for (String group : trees.sysList("kernel/iommu_groups")) {
      boolean fake =
          trees
              .sys("kernel/iommu_groups/" + group + "/name")
              .filter(NOIOMMU_GROUP_NAME::equals)
              .isPresent();
      (fake ? noiommu : real).add(group);
    }
    return new Groups(real, noiommu);
  }

  record Groups(List<String> real, List<String> noiommu) {}

  /** True if an IOMMU translates for devices: it has units, or groups that are not vfio's fakes. */
  boolean iommuOn() {
    return !iommuUnits().isEmpty() || !groups().real().isEmpty();
  }

  /** True if vfio's no-IOMMU mode is on; false where vfio or the mode is missing. */
  boolean noiommuOn() {
    return trees.sys(NOIOMMU_PARAMETER).map(v -> v.equals("Y") || v.equals("1")).orElse(false);
  }

  KernelModules.State vfioPci() {
    if (vfioPci == null) {
      vfioPci = modules.state("vfio_pci", Optional.of("vfio-pci"));
    }
    return vfioPci;
  }

  KernelModules.State uioPciGeneric() {
    if (uioPciGeneric == null) {
      uioPciGeneric = modules.state("uio_pci_generic", Optional.of("uio_pci_generic"));
    }
    return uioPciGeneric;
  }

  /**
   * The lockdown mode ({@code integrity}, {@code confidentiality}) when the kernel is locked down;
   * empty when it is not, or {@code /sys/kernel/security/lockdown} is missing.
   */
  Optional<String> lockdown() {
    Optional<String> content = trees.sys("kernel/security/lockdown");
    if (content.isEmpty()) {
      return Optional.empty();
    }
    String text = content.get();
    int open = text.indexOf('[');
    int close = text.indexOf(']', open + 1);
    if (open < 0 || close < 0) {
      return Optional.empty();
    }
    String mode = text.substring(open + 1, close);
    return mode.equals("none") ? Optional.empty() : Optional.of(mode);
  }

  /** The CPU vendor of {@code /proc/cpuinfo}: {@code GenuineIntel}, {@code AuthenticAMD}. */
  Optional<String> cpuVendor() {
    return cpuinfoField("vendor_id");
  }

  /** True if {@code /proc/cpuinfo} says the machine runs under a hypervisor. */
  boolean virtualMachine() {
    return cpuinfoField("flags").map(f -> (" " + f + " ").contains(" hypervisor ")).orElse(false);
  }

  private Optional<String> cpuinfoField(String name) {
    Optional<String> cpuinfo;
    try {
      cpuinfo = trees.proc("cpuinfo");
    } catch (Unreadable e) {
      return Optional.empty();
    }
    for (String line : cpuinfo.orElse("").lines().toList()) {
      int colon = line.indexOf(':');
      if (colon > 0 && line.substring(0, colon).strip().equals(name)) {
        return Optional.of(line.substring(colon + 1).strip());
      }
    }
    return Optional.empty();
  }

  /**
   * True unless it is certain the uio backend cannot work: uio_pci_generic missing for good, or a
   * locked-down kernel refusing the sysfs BAR mappings it uses.
   */
  boolean uioPossible() {
    try {
      return uioPciGeneric().possible() && lockdown().isEmpty();
    } catch (Unreadable e) {
      return true;
    }
  }

  /**
   * True unless it is certain the vfio backend cannot work: no vfio-pci, or no IOMMU and no mode.
   */
  boolean vfioPossible() {
    try {
      return vfioPci().possible() && (iommuOn() || noiommuOn());
    } catch (Unreadable e) {
      return true;
    }
  }
}
