package dev.upcie.sim.sysfs;

import dev.upcie.pci.PciFunction;

/**
 * An id a driver was given through {@code new_id}, matched as the kernel's {@code pci_match_one_
 * device} does: {@link #ANY} matches every vendor or device, and {@code classMask} picks the class
 * bits that must agree.
 */
record DynamicId(
    int vendor, int device, int subvendor, int subdevice, int classCode, int classMask) {

  /** {@code PCI_ANY_ID}. */
  static final int ANY = 0xffff_ffff;

  boolean matches(PciFunction f) {
    return (vendor == ANY || vendor == f.id().vendor())
        && (device == ANY || device == f.id().device())
        && (subvendor == ANY || subvendor == f.subsystem().vendor())
        && (subdevice == ANY || subdevice == f.subsystem().device())
        && ((classCode ^ f.classCode().value()) & classMask) == 0;
  }

  /**
   * The id a {@code new_id} or {@code remove_id} store gives: vendor and device, then the optional
   * subvendor and subdevice ({@link #ANY} if not given), class and class mask (0).
   */
  static DynamicId of(long[] fields) {
    return new DynamicId(
        (int) fields[0],
        (int) fields[1],
        fields.length > 2 ? (int) fields[2] : ANY,
        fields.length > 3 ? (int) fields[3] : ANY,
        fields.length > 4 ? (int) fields[4] : 0,
        fields.length > 5 ? (int) fields[5] : 0);
  }

  /**
   * The kernel's {@code sscanf(buf, "%x %x %x %x %x %x")}: hexadecimal fields, an optional {@code
   * 0x}; parsing stops at the first field that is not a number.
   *
   * @return the fields parsed, at most {@code max}
   */
  static long[] scanHex(String text, int max) {
    String[] words = text.trim().split("\\s+");
    long[] fields = new long[Math.min(max, words.length)];
    int n = 0;
    for (; n < fields.length; n++) {
      String w =
          words[n].startsWith("0x") || words[n].startsWith("0X") ? words[n].substring(2) : words[n];
      if (w.isEmpty() || w.length() > 8 || !w.chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
        break;
      }
      fields[n] = Long.parseLong(w, 16);
    }
    return java.util.Arrays.copyOf(fields, n);
  }
}
