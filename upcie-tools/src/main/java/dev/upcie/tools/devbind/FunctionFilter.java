package dev.upcie.tools.devbind;

import dev.upcie.pci.FunctionNodes;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import dev.upcie.tools.UsageException;
import java.util.Locale;
import java.util.function.Predicate;
import picocli.CommandLine.Option;

/**
 * The filters of {@code devbind list}: class, vendor, device, driver, NUMA node, IOMMU group,
 * unbound, bound to a user-space driver. Every filter given must hold; none given shows all.
 */
final class FunctionFilter implements Predicate<PciFunction> {
  @Option(
      names = "--class",
      paramLabel = "CLASS",
      description =
          "Only this class: nvme, net, storage, or a class code prefix in hex (0108, 0x010802).")
  String classCode;

  @Option(names = "--vendor", paramLabel = "HEX", description = "Only this vendor id (1b36).")
  String vendor;

  @Option(names = "--device", paramLabel = "HEX", description = "Only this device id (0010).")
  String device;

  @Option(
      names = "--driver",
      paramLabel = "NAME",
      description = "Only functions bound to this driver (nvme, vfio-pci).")
  String driver;

  @Option(names = "--numa", paramLabel = "NODE", description = "Only functions on this NUMA node.")
  Integer numa;

  @Option(
      names = "--iommu-group",
      paramLabel = "N",
      description = "Only the functions of this IOMMU group.")
  Integer iommuGroup;

  @Option(names = "--unbound", description = "Only functions bound to no driver.")
  boolean unbound;

  @Option(
      names = "--userspace",
      description =
          "Only functions bound to a user-space driver: vfio-pci (or a vendor's *_vfio_pci),"
              + " uio_pci_generic, igb_uio, or pci-stub, which parks it.")
  boolean userspace;

  private PciSelector selector;
  private Integer vendorId;
  private Integer deviceId;

  /** Checks the options' values, before any function is read. */
  void validate() {
    selector = PciSelector.any();
    if (classCode != null) {
      selector = selector.withClass(classPrefix(classCode));
    }
    vendorId = hex("--vendor", vendor);
    deviceId = hex("--device", device);
    if (unbound && (userspace || driver != null)) {
      throw new UsageException(
          "--unbound cannot be combined with --userspace or --driver: a function has one driver"
              + " or none");
    }
  }

  @Override
  public boolean test(PciFunction f) {
    if (selector == null) {
      validate();
    }
    return selector.matches(f)
        && (vendorId == null || f.id().vendor() == vendorId)
        && (deviceId == null || f.id().device() == deviceId)
        && (driver == null || f.isBoundTo(driver))
        && (numa == null || (f.numaNode().isPresent() && f.numaNode().getAsInt() == numa))
        && (iommuGroup == null
            || (f.iommuGroup().isPresent() && f.iommuGroup().getAsInt() == iommuGroup))
        && (!unbound || f.driver().isEmpty())
        && (!userspace || f.driver().filter(FunctionNodes::isUserSpace).isPresent());
  }

  private static String classPrefix(String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "nvme" -> "010802";
      case "net", "network" -> "02";
      case "storage" -> "01";
      default -> text;
    };
  }

  /** The option's value as a number, or null if not given. */
  private static Integer hex(String option, String value) {
    if (value == null) {
      return null;
    }
    if (!strip(value).matches("[0-9a-fA-F]{1,4}")) {
      throw new UsageException(
          "invalid "
              + option
              + " \""
              + value
              + "\": expected up to 4 hexadecimal digits, e.g. 1b36");
    }
    return Integer.parseInt(strip(value), 16);
  }

  private static String strip(String hex) {
    return hex.startsWith("0x") || hex.startsWith("0X") ? hex.substring(2) : hex;
  }
}
