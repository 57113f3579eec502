package dev.upcie.sys;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;

/**
 * The two fields of {@code struct statfs} this toolkit reads.
 *
 * @param type the file system's magic number ({@link #HUGETLBFS_MAGIC} for hugetlbfs)
 * @param blockSize the block size, which on hugetlbfs is the page size
 */
public record Statfs(long type, long blockSize) {
  /** {@code HUGETLBFS_MAGIC} from {@code <linux/magic.h>}. */
  public static final long HUGETLBFS_MAGIC = 0x958458f6L;

  /**
   * {@code struct statfs} on 64-bit Linux (glibc): {@code f_type} and {@code f_bsize} are its first
   * two words; the rest is kept as padding so the kernel has room to write. Checked against the C
   * header by a test.
   */
  static final StructLayout LAYOUT =
      MemoryLayout.structLayout(
              JAVA_LONG.withName("f_type"),
              JAVA_LONG.withName("f_bsize"),
              MemoryLayout.paddingLayout(104))
          .withName("statfs");

  private static final VarHandle TYPE = LAYOUT.varHandle(groupElement("f_type"));
  private static final VarHandle BLOCK_SIZE = LAYOUT.varHandle(groupElement("f_bsize"));

  static Statfs from(MemorySegment buffer) {
    return new Statfs((long) TYPE.get(buffer, 0L), (long) BLOCK_SIZE.get(buffer, 0L));
  }

  /** True if the file system is hugetlbfs (including the one behind hugetlb memfds). */
  public boolean isHugetlbfs() {
    return type == HUGETLBFS_MAGIC;
  }
}
