package dev.upcie.hugepages;

import dev.upcie.support.InvalidInputException;
import dev.upcie.support.Sizes;

/**
 * A page size: 4 KiB base pages, 2 MiB and 1 GiB hugepages on x86-64, and whatever else a kernel
 * lists under {@code /sys/kernel/mm/hugepages}.
 *
 * <pre>{@code
 * PageSize.parse("2M");       // 2 MiB
 * PageSize.parse("1048576kB") // 1 GiB, the kernel's spelling
 * PageSize.of(2 << 20).sysfsName(); // "hugepages-2048kB"
 * }</pre>
 *
 * @param bytes the size in bytes, a power of two of at least 4 KiB
 */
public record PageSize(long bytes) implements Comparable<PageSize> {
  /** The base page size of x86-64 and most AArch64 kernels. */
  public static final PageSize BASE = new PageSize(4096);

  /** Checks that the size is a power of two of at least 4 KiB. */
  public PageSize {
    if (bytes < 4096 || Long.bitCount(bytes) != 1) {
      throw new InvalidInputException(
          "invalid page size " + bytes + ": page sizes are powers of two of at least 4K");
    }
  }

  /** The page size of {@code bytes}. */
  public static PageSize of(long bytes) {
    return new PageSize(bytes);
  }

  /**
   * Parses {@code 2M}, {@code 1G}, {@code 2048kB} and the like.
   *
   * @throws InvalidInputException if it is not a size or not a valid page size
   */
  public static PageSize parse(String text) {
    return new PageSize(Sizes.parse(text));
  }

  /** log2 of the size: 21 for 2 MiB. */
  public int shift() {
    return Long.numberOfTrailingZeros(bytes);
  }

  /** The size in kB, as sysfs and {@code /proc/meminfo} write it. */
  public long kilobytes() {
    return bytes >> 10;
  }

  /** The directory name of this size's pool: {@code hugepages-2048kB}. */
  public String sysfsName() {
    return "hugepages-" + kilobytes() + "kB";
  }

  /** {@code 2M}, {@code 1G}, {@code 64K}: the form {@code hugetlbfs}'s {@code pagesize=} takes. */
  @Override
  public String toString() {
    int shift = shift();
    if (shift >= 30) {
      return (bytes >> 30) + "G";
    }
    if (shift >= 20) {
      return (bytes >> 20) + "M";
    }
    return (bytes >> 10) + "K";
  }

  @Override
  public int compareTo(PageSize other) {
    return Long.compare(bytes, other.bytes);
  }
}
