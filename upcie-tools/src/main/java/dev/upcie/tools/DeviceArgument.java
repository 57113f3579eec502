package dev.upcie.tools;

import dev.upcie.pci.NvmeDeviceNames;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.sysfs.Sysfs;

/** Parses a device given on the command line: an address or a vendor:device id. */
public final class DeviceArgument {
  private DeviceArgument() {}

  /**
   * {@code 0000:00:04.0}, {@code 00:04.0}, {@code 1b36:0010}, or an NVMe name ({@code nvme0},
   * {@code /dev/nvme0n1}) read through {@code sysfs}, as a selector.
   *
   * @throws UsageException (or {@link dev.upcie.pci.InvalidPciAddressException}) quoting the input
   * @throws dev.upcie.pci.PciFunctionNotFoundException if the NVMe name names nothing
   */
  public static PciSelector parse(String text, Sysfs sysfs) {
    if (NvmeDeviceNames.isNvmeName(text)) {
      return PciSelector.any().withAddress(NvmeDeviceNames.resolve(sysfs, text));
    }
    return parse(text);
  }

  /**
   * {@code 0000:00:04.0}, {@code 00:04.0} or {@code 1b36:0010}, as a selector (an NVMe name needs
   * {@link #parse(String, Sysfs)}).
   *
   * @throws UsageException (or {@link dev.upcie.pci.InvalidPciAddressException}) quoting the input
   */
  public static PciSelector parse(String text) {
    if (PciAddress.isAddress(text) || text.contains(".")) {
      return PciSelector.any().withAddress(PciAddress.parse(text));
    }
    if (PciId.isId(text)) {
      return PciSelector.any().withId(PciId.parse(text));
    }
    throw new UsageException(
        "invalid device \""
            + text
            + "\": expected an address (dddd:bb:dd.f or bb:dd.f, e.g. 0000:00:04.0), a"
            + " vendor:device id (e.g. 1b36:0010) or an NVMe name (nvme0, /dev/nvme0n1)");
  }
}
