package dev.upcie.support;

/**
 * Bit-field helpers for register values: a field is {@code width} bits starting at bit {@code
 * offset}.
 *
 * <pre>{@code
 * long cap = 0x004018200f0107ffL;
 * Bits.get(cap, 24, 8);        // 0x0f: NVMe CAP.TO
 * Bits.set(0, 0, 1, 1);        // 1: CC.EN set
 * }</pre>
 */
public final class Bits {
  private Bits() {}

  /** A mask of {@code width} ones starting at bit {@code offset}. */
  public static long mask(int offset, int width) {
    check(offset, width);
    long ones = width == 64 ? -1L : (1L << width) - 1;
    return ones << offset;
  }

  /** The field of {@code width} bits at {@code offset} in {@code value}, shifted down. */
  public static long get(long value, int offset, int width) {
    return (value & mask(offset, width)) >>> offset;
  }

  /** {@code value} with its field at {@code offset} replaced by {@code field}. */
  public static long set(long value, int offset, int width, long field) {
    long mask = mask(offset, width);
    if (width < 64 && field >>> width != 0) {
      throw new IllegalArgumentException(
          "0x" + Long.toHexString(field) + " does not fit in " + width + " bits");
    }
    return (value & ~mask) | (field << offset);
  }

  /** True if bit {@code bit} of {@code value} is set. */
  public static boolean test(long value, int bit) {
    return get(value, bit, 1) != 0;
  }

  private static void check(int offset, int width) {
    if (width < 1 || offset < 0 || offset + width > 64) {
      throw new IllegalArgumentException(
          "bit field [" + offset + ", +" + width + ") is not within 64 bits");
    }
  }
}
