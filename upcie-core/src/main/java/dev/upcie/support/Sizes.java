package dev.upcie.support;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Byte counts as people write and read them: {@code 16 KiB}, {@code 1.5 GiB}; {@code 4G}, {@code
 * 2048kB}. Units are binary (1K = 1024) everywhere, as the kernel's {@code kB} is.
 */
public final class Sizes {
  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
  private static final Pattern AMOUNT =
      Pattern.compile("(?<number>[0-9]+)\\s*(?<unit>[kmgt]?)(?:i?b)?", Pattern.CASE_INSENSITIVE);

  private Sizes() {}

  /**
   * Parses an amount: a whole number of bytes with an optional binary unit {@code K}, {@code M},
   * {@code G} or {@code T}, optionally followed by {@code B} or {@code iB}, in any case.
   *
   * <pre>{@code
   * Sizes.parse("4G")      // 4294967296
   * Sizes.parse("2048kB")  // 2097152
   * Sizes.parse("512")     // 512
   * }</pre>
   *
   * @throws InvalidInputException quoting the input and the accepted forms
   */
  public static long parse(String text) {
    Matcher m = AMOUNT.matcher(text == null ? "" : text.strip());
    if (!m.matches()) {
      throw new InvalidInputException(
          "invalid size \""
              + text
              + "\": expected a whole number with an optional unit K, M, G or T (1K = 1024),"
              + " e.g. 2M or 4G");
    }
    int shift =
        switch (m.group("unit").toLowerCase(Locale.ROOT)) {
          case "k" -> 10;
          case "m" -> 20;
          case "g" -> 30;
          case "t" -> 40;
          default -> 0;
        };
    try {
      long number = Long.parseLong(m.group("number"));
      if (number > (Long.MAX_VALUE >> shift)) {
        throw new NumberFormatException();
      }
      return number << shift;
    } catch (NumberFormatException e) {
      throw new InvalidInputException("invalid size \"" + text + "\": too large");
    }
  }

  /**
   * Returns {@code bytes} in binary units, exact where it divides evenly.
   *
   * <pre>{@code
   * Sizes.human(16384)     // "16 KiB"
   * Sizes.human(1536)      // "1.5 KiB"
   * Sizes.human(100)       // "100 B"
   * }</pre>
   */
  public static String human(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("negative size: " + bytes);
    }
    int unit = 0;
    double value = bytes;
    while (value >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    if (value == Math.rint(value)) {
      return String.format("%d %s", (long) value, UNITS[unit]);
    }
    return String.format("%.1f %s", value, UNITS[unit]);
  }
}
