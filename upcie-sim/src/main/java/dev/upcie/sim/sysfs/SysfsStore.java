package dev.upcie.sim.sysfs;

import dev.upcie.errno.Errno;
import dev.upcie.sysfs.SysfsException;
import java.nio.file.Path;

/** One store to a sysfs attribute: the file, the bytes written, and how the kernel refuses it. */
record SysfsStore(Path file, String value) {

  /** The refusal the writer sees: {@code write "x" to /sys/...: Invalid argument (EINVAL)}. */
  SysfsException refused(Errno errno) {
    return new SysfsException("write \"" + value.strip() + "\" to", file, errno);
  }

  /** The value without the one trailing newline that {@code echo} adds and the kernel ignores. */
  String argument() {
    return value.endsWith("\n") ? value.substring(0, value.length() - 1) : value;
  }

  /**
   * A number as the device stores read it ({@code remove}, {@code rescan}, {@code reset}, {@code
   * enable}): the kernel's {@code kstrtoul(buf, base)}, whose failure they all turn into EINVAL.
   * Digits only (base 0: {@code 0x} hex, leading {@code 0} octal, else decimal), one trailing
   * newline allowed.
   */
  long unsigned(int base) {
    return kstrtoul(base, Errno.EINVAL);
  }

  /** A decimal count as {@code nr_hugepages} reads it, which passes ERANGE through. */
  long unsignedArgument() {
    return kstrtoul(10, Errno.ERANGE);
  }

  private long kstrtoul(int base, Errno tooLarge) {
    String digits = argument();
    if (digits.startsWith("+")) {
      digits = digits.substring(1);
    }
    int radix = base;
    if ((base == 0 || base == 16)
        && digits.length() > 2
        && (digits.startsWith("0x") || digits.startsWith("0X"))) {
      digits = digits.substring(2);
      radix = 16;
    }
    if (radix == 0) {
      radix = digits.length() > 1 && digits.startsWith("0") ? 8 : 10;
    }
    int r = radix;
    if (digits.isEmpty() || !digits.chars().allMatch(c -> Character.digit(c, r) >= 0)) {
      throw refused(Errno.EINVAL);
    }
    try {
      return Long.parseUnsignedLong(digits, r);
    } catch (NumberFormatException e) {
      throw refused(tooLarge);
    }
  }
}
