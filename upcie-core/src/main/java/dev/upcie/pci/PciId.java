package dev.upcie.pci;

import dev.upcie.support.InvalidInputException;
import java.util.regex.Pattern;

/**
 * A vendor and device id pair, written {@code 1b36:0010} as lspci and the kernel's {@code new_id}
 * do.
 *
 * @param vendor the 16-bit vendor id
 * @param device the 16-bit device id
 */
public record PciId(int vendor, int device) {
  // Four digits each, as lspci -n prints them: "00:04" is a mistyped address, not an id.
  private static final Pattern FORM = Pattern.compile("[0-9a-fA-F]{4}:[0-9a-fA-F]{4}");

  /** Checks that both ids fit in 16 bits. */
  public PciId {
    if (vendor < 0 || vendor > 0xffff || device < 0 || device > 0xffff) {
      throw new IllegalArgumentException(
          "PCI ids are 16-bit: vendor 0x"
              + Integer.toHexString(vendor)
              + ", device 0x"
              + Integer.toHexString(device));
    }
  }

  /**
   * Parses {@code vvvv:dddd}: two four-digit hexadecimal numbers.
   *
   * @throws InvalidInputException if the text is not of that form
   */
  public static PciId parse(String text) {
    String trimmed = text == null ? "" : text.strip();
    if (!FORM.matcher(trimmed).matches()) {
      throw new InvalidInputException(
          "invalid PCI id \""
              + text
              + "\": expected vendor:device as two 4-digit hexadecimal numbers, e.g. 1b36:0010");
    }
    int colon = trimmed.indexOf(':');
    return new PciId(
        Integer.parseInt(trimmed.substring(0, colon), 16),
        Integer.parseInt(trimmed.substring(colon + 1), 16));
  }

  /** True if {@code text} is an id {@link #parse} accepts. */
  public static boolean isId(String text) {
    return text != null && FORM.matcher(text.strip()).matches();
  }

  /** {@code 1b36:0010}. */
  @Override
  public String toString() {
    return String.format("%04x:%04x", vendor, device);
  }
}
