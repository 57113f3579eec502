package dev.upcie.memory;

/**
 * IOVAs of a region mapped in one piece through an IOMMU: base plus offset, contiguous throughout.
 *
 * @param base the IOVA of the region's first byte
 * @param alignment the alignment of {@code base} the mapping guarantees (a power of two)
 */
public record IovaTranslation(Iova base, long alignment) implements AddressTranslation {

  /** Checks that {@code base} has the alignment claimed. */
  public IovaTranslation {
    if (alignment <= 0 || Long.bitCount(alignment) != 1 || (base.value() & (alignment - 1)) != 0) {
      throw new IllegalArgumentException(base + " is not aligned to " + alignment);
    }
  }

  @Override
  public Iova translate(long offset) {
    return base.plus(offset);
  }

  @Override
  public long translateValue(long offset) {
    return base.value() + offset;
  }

  @Override
  public long contiguousLength(long offset, long length) {
    return length;
  }

  @Override
  public long maxAlignment() {
    return alignment;
  }
}
