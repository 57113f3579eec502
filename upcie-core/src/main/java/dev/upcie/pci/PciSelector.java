package dev.upcie.pci;

import dev.upcie.support.InvalidInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Which PCI functions a caller wants: by address, by vendor:device id, by class code, or any
 * combination (all given criteria must match).
 *
 * <p>Class codes match by prefix, as devbind's {@code --classcode 0x0108} does: {@code "01"} is
 * every mass storage controller, {@code "0108"} every non-volatile memory controller, {@code
 * "010802"} NVMe exactly.
 *
 * <pre>{@code
 * PciSelector nvme = PciSelector.any().withClass("010802");
 * PciSelector edu = PciSelector.any().withId(PciId.parse("1234:11e8"));
 * }</pre>
 */
public final class PciSelector {
  private static final Pattern CLASS_PREFIX = Pattern.compile("(0x)?([0-9a-fA-F]{2}){1,3}");
  private static final PciSelector ANY = new PciSelector(null, null, 0, 0, 0);

  private final PciAddress address;
  private final PciId id;
  private final int classValue;
  private final int classMask;
  private final int classDigits;

  private PciSelector(PciAddress address, PciId id, int classValue, int classMask, int digits) {
    this.address = address;
    this.id = id;
    this.classValue = classValue;
    this.classMask = classMask;
    this.classDigits = digits;
  }

  /** Matches every function. */
  public static PciSelector any() {
    return ANY;
  }

  /** Also requires this address. */
  public PciSelector withAddress(PciAddress address) {
    return new PciSelector(Objects.requireNonNull(address), id, classValue, classMask, classDigits);
  }

  /** Also requires this vendor:device id. */
  public PciSelector withId(PciId id) {
    return new PciSelector(address, Objects.requireNonNull(id), classValue, classMask, classDigits);
  }

  /** Also requires exactly this class code. */
  public PciSelector withClass(PciClassCode classCode) {
    return new PciSelector(address, id, classCode.value(), 0xffffff, 6);
  }

  /**
   * Also requires a class code starting with {@code prefix}: 2, 4 or 6 hexadecimal digits,
   * optionally after {@code 0x}.
   *
   * @throws InvalidInputException if the prefix is malformed
   */
  public PciSelector withClass(String prefix) {
    String text = prefix == null ? "" : prefix.strip();
    if (!CLASS_PREFIX.matcher(text).matches()) {
      throw new InvalidInputException(
          "invalid PCI class code \""
              + prefix
              + "\": expected 2, 4 or 6 hexadecimal digits (base class, subclass, interface),"
              + " e.g. 0108 or 0x010802");
    }
    String digits = text.startsWith("0x") ? text.substring(2) : text;
    int shift = (6 - digits.length()) * 4;
    int value = Integer.parseInt(digits, 16) << shift;
    int mask = (0xffffff >>> shift) << shift;
    return new PciSelector(address, id, value, mask, digits.length());
  }

  /** The one address this selects by, empty if it selects by other criteria only. */
  public java.util.Optional<PciAddress> address() {
    return java.util.Optional.ofNullable(address);
  }

  /** True if {@code function} meets every criterion. */
  public boolean matches(PciFunction function) {
    return (address == null || address.equals(function.address()))
        && (id == null || id.equals(function.id()))
        && (function.classCode().value() & classMask) == classValue;
  }

  /** Describes the criteria, such as {@code id 1b36:0010, class 0x0108xx}. */
  @Override
  public String toString() {
    List<String> parts = new ArrayList<>();
    if (address != null) {
      parts.add("address " + address);
    }
    if (id != null) {
      parts.add("id " + id);
    }
    if (classMask != 0) {
      String hex = String.format("%06x", classValue).substring(0, classDigits);
      parts.add("class 0x" + hex + "xx".repeat((6 - classDigits) / 2));
    }
    return parts.isEmpty() ? "any function" : String.join(", ", parts);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof PciSelector s
        && Objects.equals(address, s.address)
        && Objects.equals(id, s.id)
        && classValue == s.classValue
        && classMask == s.classMask;
  }

  @Override
  public int hashCode() {
    return Objects.hash(address, id, classValue, classMask);
  }
}
