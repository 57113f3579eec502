package dev.upcie.doctor;

import dev.upcie.doctor.Finding.Status;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/** The IOMMU, no-IOMMU mode, iommufd and the type1 driver's mapping limit. */
final class IommuChecks {
  /** The kernel's default {@code dma_entry_limit} (U16_MAX). */
  static final long DEFAULT_DMA_ENTRY_LIMIT = 65535;

  static final String DMA_ENTRY_LIMIT = "module/vfio_iommu_type1/parameters/dma_entry_limit";

  private static final String GRUB =
      "sed -i 's/^GRUB_CMDLINE_LINUX=\"/&%s iommu=pt /' /etc/default/grub && update-grub && reboot";

  private final Facts facts;
  private final Trees trees;

  IommuChecks(Facts facts) {
    this.facts = facts;
    this.trees = facts.trees();
  }

  Finding iommu() {
    List<String> units = facts.iommuUnits();
    Facts.Groups groups = facts.groups();
    List<String> parameters = facts.iommuParameters();
    String booted =
        parameters.isEmpty()
            ? trees.procPath("cmdline") + " has no IOMMU or VFIO parameter"
            : "booted with "
                + String.join(" ", parameters)
                + " ("
                + trees.procPath("cmdline")
                + ")";
    if (facts.iommuOn()) {
      return Finding.ok(
          "iommu",
          "IOMMU on: "
              + (units.isEmpty()
                  ? trees.sysPath("class/iommu") + " lists no unit"
                  : trees.sysPath("class/iommu") + " has " + String.join(", ", units))
              + ", "
              + count(groups.real().size(), "group")
              + " in "
              + trees.sysPath("kernel/iommu_groups")
              + "; "
              + booted
              + (parameters.contains("iommu=pt")
                  ? "; iommu=pt leaves the kernel's own drivers untranslated, which VFIO does not"
                      + " mind"
                  : ""));
    }
    String found =
        "no IOMMU: "
            + trees.sysPath("class/iommu")
            + " is empty and "
            + trees.sysPath("kernel/iommu_groups")
            + " has "
            + (groups.noiommu().isEmpty()
                ? "no groups"
                : "only vfio's " + count(groups.noiommu().size(), "no-IOMMU group"))
            + "; "
            + booted
            + "; the vfio backend needs an IOMMU (or the unsafe no-IOMMU mode), the uio backend"
            + " does not";
    Status status = facts.uioPossible() || facts.noiommuOn() ? Status.WARNING : Status.PROBLEM;
    String vendor = facts.cpuVendor().orElse("");
    Optional<String> off =
        parameters.stream()
            .filter(p -> p.equals("intel_iommu=off") || p.equals("amd_iommu=off"))
            .findFirst();
    if (off.isPresent()) {
      String on = vendor.equals("AuthenticAMD") ? "amd_iommu=on" : "intel_iommu=on";
      return Finding.of(
          "iommu",
          status,
          found + "; " + off.get() + " switched it off",
          "sed -i 's/"
              + off.get()
              + "/"
              + on
              + " iommu=pt/' /etc/default/grub && update-grub && reboot");
    }
    if (facts.virtualMachine()) {
      return Finding.of(
          "iommu",
          status,
          found
              + "; this is a virtual machine whose hypervisor gives it no IOMMU: give it one"
              + " (QEMU: -machine q35,kernel-irqchip=split -device intel-iommu,intremap=on),"
              + " or use the uio backend",
          null);
    }
    if (vendor.equals("GenuineIntel") && !parameters.contains("intel_iommu=on")) {
      return Finding.of("iommu", status, found, GRUB.formatted("intel_iommu=on"));
    }
    return Finding.of(
        "iommu",
        status,
        found
            + "; the kernel asks for it"
            + " already or turns it on by default, so the IOMMU (VT-d, AMD-Vi, SMMU) is off in the"
            + " firmware setup: switch it on there",
        null);
  }

  Finding noiommu() {
    Optional<String> mode = trees.sys(Facts.NOIOMMU_PARAMETER);
    Path parameter = trees.sysPath(Facts.NOIOMMU_PARAMETER);
    if (mode.isEmpty()) {
      if (trees.sysExists("module/vfio")) {
        return Finding.ok(
            "noiommu",
            "no-IOMMU mode is not built into this kernel (no "
                + parameter
                + ": CONFIG_VFIO_NOIOMMU is off)");
      }
      return Finding.ok(
          "noiommu",
          "no-IOMMU mode is off: vfio is not loaded (no "
              + trees.sysPath("module/vfio")
              + "), and loads with the mode off unless given enable_unsafe_noiommu_mode=1");
    }
    boolean on = mode.get().equals("Y") || mode.get().equals("1");
    String taint = taint();
    if (!on) {
      return Finding.ok(
          "noiommu",
          "no-IOMMU mode is off ("
              + parameter
              + " is "
              + mode.get()
              + ")"
              + (facts.iommuOn()
                  ? ""
                  : "; without an IOMMU vfio works only with it on, unsafely: echo Y > "
                      + parameter)
              + taint);
    }
    String found =
        "no-IOMMU mode is on ("
            + parameter
            + " is "
            + mode.get()
            + "): a device bound to vfio-pci gets /dev/vfio/noiommu-N and can DMA to any memory,"
            + " and the kernel is tainted once it is bound"
            + taint;
    if (facts.iommuOn()) {
      return Finding.of(
          "noiommu",
          Status.WARNING,
          found + "; this machine has an IOMMU, so the mode is not needed",
          "echo N > " + parameter);
    }
    return Finding.of(
        "noiommu",
        Status.WARNING,
        found + "; the safe way is an IOMMU (see the iommu finding)",
        null);
  }

  /** The taint no-IOMMU groups leave, TAINT_USER ({@code U}, 64), if the kernel has it. */
  private String taint() {
    Optional<String> tainted = trees.proc("sys/kernel/tainted");
    if (tainted.isEmpty()) {
      return "";
    }
    long bits;
    try {
      bits = Long.parseLong(tainted.get().strip());
    } catch (NumberFormatException e) {
      return "";
    }
    return (bits & 64) != 0
        ? "; the kernel is tainted U (TAINT_USER, 64 in "
            + trees.procPath("sys/kernel/tainted")
            + " is "
            + bits
            + "), as a no-IOMMU group leaves it until reboot"
        : "";
  }

  Finding iommufd() {
    Path iommu = trees.dev("iommu");
    boolean device = Files.exists(iommu);
    boolean module = trees.sysExists("module/iommufd");
    List<String> cdevs = list(trees.dev("vfio/devices"));
    String cdev =
        cdevs.isEmpty()
            ? "no vfio cdev in " + trees.dev("vfio/devices")
            : "vfio cdevs in " + trees.dev("vfio/devices") + ": " + String.join(", ", cdevs);
    if (device || module) {
      return Finding.ok(
          "iommufd",
          "iommufd is available ("
              + (device ? iommu + " exists" : "no " + iommu)
              + (module ? ", " + trees.sysPath("module/iommufd") : "")
              + "); "
              + cdev
              + "; uPCIe drives VFIO through type1, which the kernel keeps beside it");
    }
    KernelModules.State state = facts.modules().state("iommufd", Optional.empty());
    return Finding.ok(
        "iommufd",
        "iommufd is not available: no "
            + iommu
            + ", no "
            + trees.sysPath("module/iommufd")
            + ", and "
            + state.describe()
            + "; "
            + cdev
            + "; uPCIe drives VFIO through type1, which does not need it");
  }

  Finding dmaEntryLimit() {
    Optional<String> value = trees.sys(DMA_ENTRY_LIMIT);
    Path parameter = trees.sysPath(DMA_ENTRY_LIMIT);
    if (value.isEmpty()) {
      return Finding.ok(
          "dma-entry-limit",
          "vfio_iommu_type1 is not loaded (no "
              + parameter
              + "); it starts with the kernel's "
              + DEFAULT_DMA_ENTRY_LIMIT
              + " DMA mappings per container");
    }
    long limit;
    try {
      limit = Long.parseLong(value.get().strip());
    } catch (NumberFormatException e) {
      return Finding.of(
          "dma-entry-limit",
          Status.UNKNOWN,
          parameter + " holds \"" + value.get() + "\", not a number",
          null);
    }
    if (limit < DEFAULT_DMA_ENTRY_LIMIT) {
      return Finding.of(
          "dma-entry-limit",
          Status.WARNING,
          "a VFIO container may hold only "
              + limit
              + " DMA mappings ("
              + parameter
              + "), below the kernel's default "
              + DEFAULT_DMA_ENTRY_LIMIT
              + "; past it, mapping fails with ENOSPC",
          "echo " + DEFAULT_DMA_ENTRY_LIMIT + " > " + parameter);
    }
    return Finding.ok(
        "dma-entry-limit",
        "a VFIO container may hold " + limit + " DMA mappings (" + parameter + ")");
  }

  private static List<String> list(Path directory) {
    if (!Files.isDirectory(directory)) {
      return List.of();
    }
    try (Stream<Path> entries = Files.list(directory)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw new Unreadable(
          directory, e.toString(), e instanceof java.nio.file.AccessDeniedException);
    }
  }

  static String count(int n, String noun) {
    return n + " " + noun + (n == 1 ? "" : "s");
  }
}
