package dev.upcie.tools;

import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;

/** Parses a device given on the command line: an address or a vendor:device id. */
public final class DeviceArgument {
  private DeviceArgument() {}

  /**
   * {@code 0000:00:04.0}, {@code 00:04.0} or {@code 1b36:0010}, as a selector.
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
            + "\": expected an address (dddd:bb:dd.f or bb:dd.f, e.g. 0000:00:04.0) or a"
            + " vendor:device id (e.g. 1b36:0010)");
  }
}
