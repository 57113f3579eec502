package dev.upcie.assertj;

import java.util.Locale;

/**
 * Two byte ranges side by side around where they first differ, for failure messages: the actual
 * bytes and the expected ones at the same offsets, with the first difference marked.
 *
 * <pre>
 * actual:
 *   0x0010  00 01 02 03 04 05 06 07  08 09 0a 0b 0c 0d 0e 0f
 *   0x0020  de ad 00 ef 00 00 00 00  00 00 00 00 00 00 00 00
 *                 ^^
 * expected:
 *   0x0020  de ad be ef
 *                 ^^
 * </pre>
 */
final class HexDump {
  private static final int PER_LINE = 16;
  // Lines shown before and after the one with the first difference.
  private static final int CONTEXT_LINES = 2;

  /** Bytes by offset: 0 to 255, or -1 where there is nothing to show. */
  @FunctionalInterface
  interface Bytes {
    int at(long offset);
  }

  private HexDump() {}

  /** Both ranges of a {@code size}-byte space, around {@code first}, where they first differ. */
  static String around(long first, long size, Bytes actual, Bytes expected) {
    int digits = Math.max(4, Long.toHexString(Math.max(size - 1, 0)).length());
    long from = Math.max(0, (first / PER_LINE - CONTEXT_LINES) * PER_LINE);
    long to = Math.min(size, (first / PER_LINE + CONTEXT_LINES + 1) * PER_LINE);
    return "actual:%n%sexpected:%n%s"
        .formatted(block(actual, from, to, first, digits), block(expected, from, to, first, digits))
        .stripTrailing();
  }

  private static String block(Bytes bytes, long from, long to, long first, int digits) {
    StringBuilder text = new StringBuilder();
    for (long line = from; line < to; line += PER_LINE) {
      StringBuilder row = new StringBuilder();
      boolean any = false;
      int marker = -1;
      row.append(String.format(Locale.ROOT, "  0x%0" + digits + "x ", line));
      for (long at = line; at < Math.min(line + PER_LINE, to); at++) {
        row.append(at - line == PER_LINE / 2 ? "  " : " ");
        if (at == first) {
          marker = row.length();
        }
        int b = bytes.at(at);
        any |= b >= 0;
        row.append(b < 0 ? "  " : String.format(Locale.ROOT, "%02x", b));
      }
      if (any) {
        text.append(row.toString().stripTrailing()).append(System.lineSeparator());
        if (marker >= 0) {
          text.append(" ".repeat(marker)).append("^^").append(System.lineSeparator());
        }
      }
    }
    return text.toString();
  }
}
