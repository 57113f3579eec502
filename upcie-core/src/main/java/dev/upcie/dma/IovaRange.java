package dev.upcie.dma;

import dev.upcie.memory.Iova;

/**
 * A range of device addresses, first to last inclusive: an aperture the IOMMU translates, or what a
 * DMA mask lets a device reach.
 *
 * @param first the lowest address
 * @param last the highest address, at most {@link Long#MAX_VALUE} (wider IOMMUs are clipped there)
 */
public record IovaRange(long first, long last) {

  /** Checks that the range is not empty and not negative. */
  public IovaRange {
    if (first < 0 || last < first) {
      throw new IllegalArgumentException(
          "not a range of device addresses: 0x"
              + Long.toHexString(first)
              + " to 0x"
              + Long.toHexString(last));
    }
  }

  /** The addresses a device with a DMA mask of {@code bits} bits reaches: 0 to 2^bits - 1. */
  public static IovaRange belowMask(int bits) {
    DmaMasks.check(bits);
    return new IovaRange(0, DmaMasks.limit(bits));
  }

  /** The number of addresses, saturating at {@link Long#MAX_VALUE}. */
  public long size() {
    long size = last - first + 1;
    return size <= 0 ? Long.MAX_VALUE : size;
  }

  /** True if {@code address} lies in the range. */
  public boolean contains(Iova address) {
    return address.value() >= first && address.value() <= last;
  }

  /** The part of this range also in {@code other}, or null if they do not meet. */
  IovaRange intersection(IovaRange other) {
    long from = Math.max(first, other.first);
    long to = Math.min(last, other.last);
    return from <= to ? new IovaRange(from, to) : null;
  }

  /** {@code [0x10000, 0x7fffffffff]}. */
  @Override
  public String toString() {
    return "[0x" + Long.toHexString(first) + ", 0x" + Long.toHexString(last) + "]";
  }
}
