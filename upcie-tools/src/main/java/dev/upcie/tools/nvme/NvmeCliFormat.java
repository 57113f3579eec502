package dev.upcie.tools.nvme;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;
import java.util.Locale;

/**
 * Values printed the way nvme-cli 2.3 prints them ({@code nvme-print.c}, {@code util/suffix.c}), so
 * that the output of {@code upcie nvme} reads, and diffs, like nvme-cli's.
 */
final class NvmeCliFormat {
  private static final String[] SI = {"", "k", "M", "G", "T", "P", "E"};
  private static final String[] BINARY = {"", "Ki", "Mi", "Gi", "Ti", "Pi"};

  private NvmeCliFormat() {}

  /** C's {@code %#x}: {@code 0x3f}, but {@code 0} for zero. */
  static String hex(long value) {
    return value == 0 ? "0" : "0x" + Long.toHexString(value);
  }

  /**
   * C's {@code %#0*x}: zero-padded to {@code width} characters including the {@code 0x} ({@code
   * 0x07}, {@code 0x003f003f}); zero is all zeroes, without the prefix ({@code 00000000}).
   */
  static String hex(long value, int width) {
    if (value == 0) {
      return "0".repeat(width);
    }
    String digits = Long.toHexString(value);
    return "0x" + "0".repeat(Math.max(0, width - 2 - digits.length())) + digits;
  }

  /**
   * A space-padded ASCII field of Identify Controller (SN, MN, FR) as nvme-cli prints it ({@code
   * %-.*s} over the whole field): with its padding.
   */
  static String padded(String value, int width) {
    return value.length() >= width ? value : value + " ".repeat(width - value.length());
  }

  /** Kelvin as nvme-cli's {@code kelvin_to_celsius}: {@code K - 273}. */
  static long celsius(long kelvin) {
    return kelvin - 273;
  }

  /**
   * {@code count} units of {@code bytesPerUnit} bytes in SI units, as {@code
   * uint128_t_to_si_string}: {@code 1.54 GB}, {@code 0.00 B}.
   */
  static String si(BigInteger count, long bytesPerUnit) {
    BigDecimal bytes = new BigDecimal(count.multiply(BigInteger.valueOf(bytesPerUnit)));
    int unit = 0;
    BigDecimal thousand = BigDecimal.valueOf(1000);
    while (unit < SI.length - 1 && bytes.compareTo(thousand.pow(unit + 1)) >= 0) {
      unit++;
    }
    BigDecimal scaled = bytes.divide(thousand.pow(unit), 2, RoundingMode.HALF_EVEN);
    return scaled.toPlainString() + " " + SI[unit] + "B";
  }

  /**
   * The Usage column of {@code nvme list}: used and total bytes in SI units, {@code %6.2f %2sB /
   * %6.2f %2sB}, such as {@code " 0.00 B / 67.11 MB"}.
   */
  static String usage(long usedBytes, long totalBytes) {
    return siColumn(usedBytes) + " / " + siColumn(totalBytes);
  }

  private static String siColumn(long bytes) {
    double value = bytes;
    int unit = 0;
    while (unit < SI.length - 1 && value >= Math.pow(1000, unit + 1)) {
      unit++;
    }
    return String.format(Locale.ROOT, "%6.2f %2sB", value / Math.pow(1000, unit), SI[unit]);
  }

  /**
   * The Format column of {@code nvme list}: block size in binary units (rounded as {@code
   * suffix_binary_get}) plus metadata bytes, {@code %3.0f %2sB + %2d B}, such as {@code "512 B + 0
   * B"} or {@code " 4 KiB + 0 B"}.
   */
  static String format(long blockSize, int metadataSize) {
    long value = blockSize;
    int unit = 0;
    for (int shift = 50; shift > 0; shift -= 10) {
      if (blockSize >= 1L << shift) {
        value = (blockSize + (1L << (shift - 1))) >> shift;
        unit = shift / 10;
        break;
      }
    }
    return String.format(Locale.ROOT, "%3d %2sB + %2d B", value, BINARY[unit], metadataSize);
  }

  /** nvme-cli's name of feature {@code fid} ({@code nvme_feature_to_string}). */
  static String featureName(int fid) {
    return switch (fid) {
      case 0x01 -> "Arbitration";
      case 0x02 -> "Power Management";
      case 0x03 -> "LBA Range Type";
      case 0x04 -> "Temperature Threshold";
      case 0x05 -> "Error Recovery";
      case 0x06 -> "Volatile Write Cache";
      case 0x07 -> "Number of Queues";
      case 0x08 -> "Interrupt Coalescing";
      case 0x09 -> "Interrupt Vector Configuration";
      case 0x0a -> "Write Atomicity Normal";
      case 0x0b -> "Async Event Configuration";
      case 0x0c -> "Autonomous Power State Transition";
      case 0x0d -> "Host Memory Buffer";
      case 0x0e -> "Timestamp";
      case 0x0f -> "Keep Alive Timer";
      case 0x10 -> "Host Controlled Thermal Management";
      case 0x11 -> "Non-Operational Power State Config";
      case 0x12 -> "Read Recovery Level";
      case 0x13 -> "Predictable Latency Mode Config";
      case 0x14 -> "Predictable Latency Mode Window";
      case 0x15 -> "LBA Status Interval";
      case 0x16 -> "Host Behavior";
      case 0x17 -> "Sanitize";
      case 0x18 -> "Endurance Event Group Configuration";
      case 0x19 -> "I/O Command Set Profile";
      case 0x1a -> "Spinup Control";
      case 0x1d -> "Flexible Direct Placement";
      case 0x1e -> "Flexible Direct Placement Events";
      case 0x7d -> "Enhanced Controller Metadata";
      case 0x7e -> "Controller Metadata";
      case 0x7f -> "Namespace Metadata";
      case 0x80 -> "Software Progress";
      case 0x81 -> "Host Identifier";
      case 0x82 -> "Reservation Notification Mask";
      case 0x83 -> "Reservation Persistence";
      case 0x84 -> "Namespace Write Protect";
      default -> "Unknown";
    };
  }

  /** nvme-cli's name of a Get Features select value ({@code nvme_select_to_string}). */
  static String selectName(int select) {
    return switch (select) {
      case 0 -> "Current";
      case 1 -> "Default";
      case 2 -> "Saved";
      case 3 -> "Supported capabilities";
      default -> "Reserved";
    };
  }
}
