package dev.upcie.memory;

import dev.upcie.hugepages.PageSize;
import java.util.Arrays;

/**
 * Physical addresses of a region by table: one entry per (huge)page, from {@link Pagemap}.
 * Contiguous within a page, and across pages only where the table says so.
 */
public final class PhysicalTranslation implements AddressTranslation {
  private final long[] pages;
  private final PageSize pageSize;
  private final int shift;
  private final long mask;

  /**
   * A translation from the physical address of each page, in region order.
   *
   * @param pages the physical address of page {@code i} at index {@code i}
   */
  public PhysicalTranslation(long[] pages, PageSize pageSize) {
    this.pages = pages.clone();
    this.pageSize = pageSize;
    this.shift = pageSize.shift();
    this.mask = pageSize.bytes() - 1;
    for (int i = 0; i < pages.length; i++) {
      if ((pages[i] & mask) != 0) {
        throw new IllegalArgumentException(
            "page "
                + i
                + " at physical 0x"
                + Long.toHexString(pages[i])
                + " is not "
                + pageSize
                + "-aligned");
      }
    }
  }

  /** The page size of the table. */
  public PageSize pageSize() {
    return pageSize;
  }

  /** The number of pages. */
  public int pageCount() {
    return pages.length;
  }

  /** The physical address of page {@code index}. */
  public PhysicalAddress page(int index) {
    return new PhysicalAddress(pages[index]);
  }

  @Override
  public PhysicalAddress translate(long offset) {
    return new PhysicalAddress(translateValue(offset));
  }

  @Override
  public long translateValue(long offset) {
    return pages[(int) (offset >>> shift)] + (offset & mask);
  }

  @Override
  public long contiguousLength(long offset, long length) {
    int page = (int) (offset >>> shift);
    long contiguous = Math.min(length, pageSize.bytes() - (offset & mask));
    while (contiguous < length
        && page + 1 < pages.length
        && pages[page + 1] == pages[page] + pageSize.bytes()) {
      page++;
      contiguous = Math.min(length, contiguous + pageSize.bytes());
    }
    return contiguous;
  }

  @Override
  public long maxAlignment() {
    return pageSize.bytes();
  }

  @Override
  public String toString() {
    return "PhysicalTranslation["
        + pages.length
        + " x "
        + pageSize
        + ", "
        + Arrays.stream(pages).limit(4).mapToObj(p -> "0x" + Long.toHexString(p)).toList()
        + (pages.length > 4 ? "..." : "")
        + "]";
  }
}
