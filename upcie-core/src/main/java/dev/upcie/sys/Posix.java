package dev.upcie.sys;

/**
 * Flag values for {@link Syscalls}, as Linux defines them on x86-64 and AArch64.
 *
 * <p>A test compiles a C program against the system headers and checks every value here.
 */
public final class Posix {
  /** {@code open}: read only. */
  public static final int O_RDONLY = 0;

  /** {@code open}: write only. */
  public static final int O_WRONLY = 1;

  /** {@code open}: read and write. */
  public static final int O_RDWR = 2;

  /** {@code open}: truncate a regular file to length 0 (sysfs attributes ignore it). */
  public static final int O_TRUNC = 0x200;

  /** {@code open}: no blocking on the descriptor. */
  public static final int O_NONBLOCK = 0x800;

  /** {@code open}: close the descriptor on {@code exec}, so child processes never inherit it. */
  public static final int O_CLOEXEC = 0x80000;

  /** {@code open}: create the file if it does not exist (give a mode). */
  public static final int O_CREAT = 0x40;

  /** {@code open}: with {@link #O_CREAT}, fail if the file exists. */
  public static final int O_EXCL = 0x80;

  /** {@code lseek}: relative to the end of the file. */
  public static final int SEEK_END = 2;

  /** {@code memfd_create}: close the descriptor on {@code exec}. */
  public static final int MFD_CLOEXEC = 0x1;

  /** {@code memfd_create}: back the file with hugepages. */
  public static final int MFD_HUGETLB = 0x4;

  /** {@code memfd_create}: the hugepage size is {@code log2(size) << MFD_HUGE_SHIFT}. */
  public static final int MFD_HUGE_SHIFT = 26;

  /** {@code madvise}: fault every page in, writable, now (Linux 5.14+). */
  public static final int MADV_POPULATE_WRITE = 23;

  /** {@code eventfd}: close the descriptor on {@code exec}. */
  public static final int EFD_CLOEXEC = O_CLOEXEC;

  /** {@code eventfd}: reads return {@code EAGAIN} instead of blocking. */
  public static final int EFD_NONBLOCK = O_NONBLOCK;

  /** {@code poll}: there is data to read. */
  public static final short POLLIN = 0x1;

  /** {@code mbind}: allocate only from the given nodes. */
  public static final int MPOL_BIND = 2;

  /** {@code mbind}: fail if pages already present do not follow the policy. */
  public static final int MPOL_MF_STRICT = 1;

  /** {@code mmap}: pages may be read. */
  public static final int PROT_READ = 1;

  /** {@code mmap}: pages may be written. */
  public static final int PROT_WRITE = 2;

  /** {@code mmap}: writes go to the underlying object (the device or file), not a private copy. */
  public static final int MAP_SHARED = 1;

  private Posix() {}
}
