package dev.upcie.memory;

/**
 * How offsets in a memory region become {@link DeviceAddress}es: through a table of physical
 * addresses, one per hugepage ({@link PhysicalTranslation}), or as an IOVA base plus the offset
 * ({@link IovaTranslation}).
 */
public sealed interface AddressTranslation permits PhysicalTranslation, IovaTranslation {

  /** The device address of the byte at {@code offset} in the region. */
  DeviceAddress translate(long offset);

  /**
   * {@link #translate}'s value, as a primitive: for hot loops (PRP lists, descriptor rings), where
   * it allocates nothing. The typed form is what APIs hand out.
   */
  long translateValue(long offset);

  /**
   * How many bytes from {@code offset} on are contiguous for the device (reachable by adding to the
   * address of {@code offset}), at most {@code length}.
   */
  long contiguousLength(long offset, long length);

  /**
   * The largest alignment of a region offset that carries over to its device address: the page size
   * for physical addresses (pages are only as aligned as their size), the region's alignment in
   * IOVA space otherwise.
   */
  long maxAlignment();
}
