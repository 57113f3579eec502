package dev.upcie.pci;

import java.util.Comparator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The address of a PCI function: domain, bus, device and function, as in {@code 0000:00:04.0}.
 *
 * <p>Parses the kernel's form {@code dddd:bb:dd.f} and the short form {@code bb:dd.f} (domain 0),
 * in either case, and always formats the kernel's form, which is the name of the function's
 * directory in sysfs. Ordered as the kernel lists functions.
 *
 * <pre>{@code
 * PciAddress nvme = PciAddress.parse("00:04.0");
 * nvme.toString();   // "0000:00:04.0"
 * nvme.device();     // 4
 * }</pre>
 *
 * @param domain the PCI segment, 0 to 0xffffffff (stored as an unsigned int; VMD uses 0x10000+)
 * @param bus 0 to 0xff
 * @param device 0 to 0x1f
 * @param function 0 to 7
 */
public record PciAddress(int domain, int bus, int device, int function)
    implements Comparable<PciAddress> {

  private static final Pattern FORM =
      Pattern.compile(
          "(?:(?<domain>[0-9a-fA-F]{1,8}):)?(?<bus>[0-9a-fA-F]{1,2}):"
              + "(?<device>[0-9a-fA-F]{1,2})\\.(?<function>[0-9a-fA-F])");

  private static final Comparator<PciAddress> ORDER =
      Comparator.comparing(PciAddress::domain, Integer::compareUnsigned)
          .thenComparingInt(PciAddress::bus)
          .thenComparingInt(PciAddress::device)
          .thenComparingInt(PciAddress::function);

  /** Checks the ranges; the domain is any unsigned 32-bit value. */
  public PciAddress {
    check("bus", bus, 0xff);
    check("device", device, 0x1f);
    check("function", function, 7);
  }

  /**
   * Parses {@code dddd:bb:dd.f} or {@code bb:dd.f}.
   *
   * @throws InvalidPciAddressException saying what was wrong, with the accepted forms
   */
  public static PciAddress parse(String text) {
    if (text == null) {
      throw new InvalidPciAddressException("null", "no address given");
    }
    String trimmed = text.strip();
    Matcher m = FORM.matcher(trimmed);
    if (!m.matches()) {
      throw new InvalidPciAddressException(text, "malformed");
    }
    String domain = m.group("domain");
    int device = Integer.parseInt(m.group("device"), 16);
    int function = Integer.parseInt(m.group("function"), 16);
    if (device > 0x1f) {
      throw new InvalidPciAddressException(text, "device 0x" + m.group("device") + " > 0x1f");
    }
    if (function > 7) {
      throw new InvalidPciAddressException(text, "function " + m.group("function") + " > 7");
    }
    return new PciAddress(
        domain == null ? 0 : Integer.parseUnsignedInt(domain, 16),
        Integer.parseInt(m.group("bus"), 16),
        device,
        function);
  }

  /** True if {@code text} is an address {@link #parse} accepts. */
  public static boolean isAddress(String text) {
    return text != null && FORM.matcher(text.strip()).matches();
  }

  /** The kernel's form, {@code 0000:00:04.0}: the name of the sysfs directory. */
  @Override
  public String toString() {
    return String.format(
        "%04x:%02x:%02x.%x", Integer.toUnsignedLong(domain), bus, device, function);
  }

  @Override
  public int compareTo(PciAddress other) {
    return ORDER.compare(this, other);
  }

  private static void check(String field, int value, int max) {
    if (value < 0 || value > max) {
      throw new IllegalArgumentException(
          "PCI "
              + field
              + " 0x"
              + Integer.toHexString(value)
              + " out of range 0-0x"
              + Integer.toHexString(max));
    }
  }
}
