package dev.upcie.dma;

/** DMA masks as bit counts: a device with an {@code n}-bit mask reaches addresses below 2^n. */
final class DmaMasks {
  private DmaMasks() {}

  /** Checks that a mask has 1 to 64 bits. */
  static int check(int bits) {
    if (bits < 1 || bits > 64) {
      throw new IllegalArgumentException("a DMA mask has 1 to 64 bits, not " + bits);
    }
    return bits;
  }

  /** The highest address a mask of {@code bits} reaches, clipped to {@link Long#MAX_VALUE}. */
  static long limit(int bits) {
    return bits >= 63 ? Long.MAX_VALUE : (1L << bits) - 1;
  }
}
