package dev.upcie.nvme.driver;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Little-endian fields of the data structures a controller returns (Identify, log pages). */
final class Bytes {
  private Bytes() {}

  static int u8(MemorySegment data, long offset) {
    return Byte.toUnsignedInt(data.get(ValueLayout.JAVA_BYTE, offset));
  }

  static int u16(MemorySegment data, long offset) {
    return Short.toUnsignedInt(data.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset));
  }

  static int u24(MemorySegment data, long offset) {
    return u16(data, offset) | u8(data, offset + 2) << 16;
  }

  /** An unsigned 32-bit field, as a long so that it never reads negative. */
  static long u32(MemorySegment data, long offset) {
    return Integer.toUnsignedLong(data.get(ValueLayout.JAVA_INT_UNALIGNED, offset));
  }

  /** A 64-bit field; sizes and counts in blocks never reach 2^63. */
  static long u64(MemorySegment data, long offset) {
    return data.get(ValueLayout.JAVA_LONG_UNALIGNED, offset);
  }

  /** A 128-bit unsigned field (capacities in bytes, SMART counters). */
  static BigInteger u128(MemorySegment data, long offset) {
    byte[] bigEndian = new byte[17]; // a leading zero keeps it positive
    for (int i = 0; i < 16; i++) {
      bigEndian[16 - i] = data.get(ValueLayout.JAVA_BYTE, offset + i);
    }
    return new BigInteger(bigEndian);
  }

  /** An ASCII field padded with spaces (or NULs), without the padding. */
  static String ascii(MemorySegment data, long offset, int size) {
    byte[] bytes = new byte[size];
    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, bytes, 0, size);
    int end = size;
    while (end > 0 && (bytes[end - 1] == ' ' || bytes[end - 1] == 0)) {
      end--;
    }
    int nul = 0;
    while (nul < end && bytes[nul] != 0) {
      nul++;
    }
    return new String(bytes, 0, nul, StandardCharsets.US_ASCII);
  }

  /** Bytes in order as lowercase hexadecimal, as nvme-cli prints identifiers (EUI-64, NGUID). */
  static String hex(MemorySegment data, long offset, int size) {
    byte[] bytes = new byte[size];
    MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, bytes, 0, size);
    return HexFormat.of().formatHex(bytes);
  }
}
