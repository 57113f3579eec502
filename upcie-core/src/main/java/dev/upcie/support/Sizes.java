package dev.upcie.support;

/** Formats byte counts the way people read them: {@code 16 KiB}, {@code 1 MiB}, {@code 1.5 GiB}. */
public final class Sizes {
  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

  private Sizes() {}

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
