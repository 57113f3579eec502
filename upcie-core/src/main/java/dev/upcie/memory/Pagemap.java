package dev.upcie.memory;

import dev.upcie.errno.ErrnoException;
import dev.upcie.hugepages.PageSize;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Physical addresses of this process's memory, from {@code /proc/self/pagemap}: one 64-bit entry
 * per base page, bit 63 "present", bits 0-54 the page frame number.
 *
 * <p>Since Linux 4.2 a process without {@code CAP_SYS_ADMIN} reads frame number 0 for every present
 * page instead of an error. This class detects that and throws, rather than returning addresses
 * that would point a device's DMA at physical page 0.
 */
public final class Pagemap {
  /** The file read. */
  public static final String PATH = "/proc/self/pagemap";

  private static final long PRESENT = 1L << 63;
  private static final long PFN_MASK = (1L << 55) - 1;

  private Pagemap() {}

  /**
   * The physical address of the byte at the start of {@code at}.
   *
   * @throws PagemapException if the page is not present or the kernel hides frame numbers
   */
  public static PhysicalAddress physicalAddress(MemorySegment at) {
    return new PhysicalAddress(physicalPages(at.address(), 1, PageSize.BASE)[0]);
  }

  /**
   * The physical address of each page of {@code pageSize} in {@code region}, which must start on a
   * page boundary: the table a {@link PhysicalTranslation} is built from.
   *
   * @throws PagemapException if a page is not present or the kernel hides frame numbers
   */
  public static long[] physicalPages(MemorySegment region, PageSize pageSize) {
    if ((region.address() & (pageSize.bytes() - 1)) != 0) {
      throw new IllegalArgumentException("region does not start on a " + pageSize + " boundary");
    }
    int count = (int) (region.byteSize() / pageSize.bytes());
    return physicalPages(region.address(), count, pageSize);
  }

  private static long[] physicalPages(long address, int count, PageSize pageSize) {
    long base = PageSize.BASE.bytes();
    long[] result = new long[count];
    try (NativeFd pagemap = Syscalls.open(PATH, Posix.O_RDONLY);
        Arena arena = Arena.ofConfined()) {
      MemorySegment entry = arena.allocate(ValueLayout.JAVA_LONG);
      for (int i = 0; i < count; i++) {
        long virtual = address + i * pageSize.bytes();
        long read = Syscalls.pread(pagemap, entry, (virtual / base) * Long.BYTES);
        if (read != Long.BYTES) {
          throw new PagemapException(
              "short read of " + PATH + " for 0x" + Long.toHexString(virtual));
        }
        long value = entry.get(ValueLayout.JAVA_LONG, 0);
        if ((value & PRESENT) == 0) {
          throw new PagemapException(
              "the page at virtual 0x"
                  + Long.toHexString(virtual)
                  + " is not present in memory: touch and lock it before asking for its address");
        }
        long frame = value & PFN_MASK;
        if (frame == 0) {
          throw new PagemapException(
              PATH
                  + " hides physical addresses from this process (it reads frame number 0):"
                  + " reading them needs CAP_SYS_ADMIN, so run as root; with an IOMMU, use VFIO"
                  + " and IOVAs instead, which need no physical addresses");
        }
        result[i] = frame * base + (virtual % base);
      }
    } catch (ErrnoException e) {
      throw new PagemapException("cannot read " + PATH + ": " + e.getMessage(), e);
    }
    return result;
  }
}
