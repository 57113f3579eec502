package dev.upcie.sys;

import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Objects;

/**
 * The system calls a user-space driver needs, with {@code errno} turned into {@link
 * ErrnoException}.
 *
 * <p>Calls interrupted by a signal ({@code EINTR}) are retried. Buffers are {@link MemorySegment}s,
 * so the kernel never sees more memory than the segment covers.
 *
 * <pre>{@code
 * try (NativeFd fd = Syscalls.open("/dev/vfio/vfio", Posix.O_RDWR | Posix.O_CLOEXEC)) {
 *   int version = Syscalls.ioctl(fd, new Ioctl("VFIO_GET_API_VERSION", 0x3b64));
 * }
 * }</pre>
 */
@SuppressWarnings("restricted")
public final class Syscalls {
  private static final long MAP_FAILED = -1L;

  private Syscalls() {}

  /**
   * Opens {@code path}; {@link Posix#O_CLOEXEC} is always added.
   *
   * @throws ErrnoException naming the path and the errno
   */
  public static NativeFd open(String path, int flags) {
    return open(path, flags, 0);
  }

  /**
   * Opens {@code path}, creating it with {@code mode} if {@link Posix#O_CREAT} is among the flags;
   * {@link Posix#O_CLOEXEC} is always added.
   *
   * @throws ErrnoException naming the path and the errno
   */
  public static NativeFd open(String path, int flags, int mode) {
    Objects.requireNonNull(path, "path");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment cPath = arena.allocateFrom(path);
      while (true) {
        int fd = (int) LibC.OPEN.invokeExact(LibC.capture(), cPath, flags | Posix.O_CLOEXEC, mode);
        if (fd >= 0) {
          return new NativeFd(fd, path);
        }
        retryOrThrow("open", path);
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /**
   * Creates an anonymous memory file ({@code memfd_create}); {@code MFD_CLOEXEC} is always added.
   * Its path for other processes is {@code /proc/<pid>/fd/<fd>}.
   *
   * @param name a name for {@code /proc/<pid>/fd} listings, not a path
   * @param flags such as {@link Posix#MFD_HUGETLB} with a size encoded at {@link
   *     Posix#MFD_HUGE_SHIFT}
   */
  public static NativeFd memfdCreate(String name, int flags) {
    try (Arena arena = Arena.ofConfined()) {
      int fd =
          (int)
              LibC.MEMFD_CREATE.invokeExact(
                  LibC.capture(), arena.allocateFrom(name), flags | Posix.MFD_CLOEXEC);
      if (fd < 0) {
        throw new ErrnoException("memfd_create", name, Errno.of(LibC.errno()));
      }
      return new NativeFd(fd, "/proc/" + ProcessHandle.current().pid() + "/fd/" + fd);
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /** Sets the file's length ({@code ftruncate}). */
  public static void ftruncate(NativeFd fd, long length) {
    int f = fd.acquire();
    try {
      while (true) {
        int r = (int) LibC.FTRUNCATE.invokeExact(LibC.capture(), f, length);
        if (r == 0) {
          return;
        }
        retryOrThrow("ftruncate", fd.path());
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /** The file's length, from {@code lseek(fd, 0, SEEK_END)}; works where {@code fstat} would. */
  public static long size(NativeFd fd) {
    int f = fd.acquire();
    try {
      long r = (long) LibC.LSEEK.invokeExact(LibC.capture(), f, 0L, Posix.SEEK_END);
      if (r < 0) {
        throw new ErrnoException("lseek", fd.path(), Errno.of(LibC.errno()));
      }
      return r;
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /**
   * Locks the pages of {@code segment} in memory ({@code mlock}); they stay locked until unmapped.
   *
   * @throws ErrnoException {@code ENOMEM} or {@code EPERM} when {@code RLIMIT_MEMLOCK} is too low
   */
  public static void mlock(MemorySegment segment, String description) {
    try {
      int r = (int) LibC.MLOCK.invokeExact(LibC.capture(), segment, segment.byteSize());
      if (r != 0) {
        throw new ErrnoException("mlock", description, Errno.of(LibC.errno()));
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /**
   * Faults every page of {@code segment} in, writable ({@code madvise(MADV_POPULATE_WRITE)}).
   * Unlike touching the memory, a page the kernel cannot supply is an error here, not a {@code
   * SIGBUS}.
   *
   * @throws ErrnoException {@code ENOMEM} or {@code EFAULT} when pages cannot be supplied; {@code
   *     EINVAL} on kernels before 5.14
   */
  public static void populateWrite(MemorySegment segment, String description) {
    try {
      int r =
          (int)
              LibC.MADVISE.invokeExact(
                  LibC.capture(), segment, segment.byteSize(), Posix.MADV_POPULATE_WRITE);
      if (r != 0) {
        throw new ErrnoException("madvise POPULATE_WRITE", description, Errno.of(LibC.errno()));
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /** Removes a file; failures are ignored (for cleanups, where there is no one to tell). */
  public static void unlinkQuietly(String path) {
    try (Arena arena = Arena.ofConfined()) {
      int unused = (int) LibC.UNLINK.invokeExact(arena.allocateFrom(path));
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /**
   * Mounts a file system ({@code mount(2)}), as {@code mount -t type -o data source target}.
   *
   * @throws ErrnoException naming the target and the errno ({@code EPERM} without root)
   */
  public static void mount(String source, String target, String type, String data) {
    try (Arena arena = Arena.ofConfined()) {
      // A typed local: a conditional passed to invokeExact would be typed Object.
      MemorySegment options = data == null ? MemorySegment.NULL : arena.allocateFrom(data);
      int r =
          (int)
              LibC.MOUNT.invokeExact(
                  LibC.capture(),
                  arena.allocateFrom(source),
                  arena.allocateFrom(target),
                  arena.allocateFrom(type),
                  0L,
                  options);
      if (r != 0) {
        throw new ErrnoException("mount " + type, target, Errno.of(LibC.errno()));
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /** Unmounts {@code target} ({@code umount2(target, 0)}). */
  public static void unmount(String target) {
    try (Arena arena = Arena.ofConfined()) {
      int r = (int) LibC.UMOUNT2.invokeExact(LibC.capture(), arena.allocateFrom(target), 0);
      if (r != 0) {
        throw new ErrnoException("umount", target, Errno.of(LibC.errno()));
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /**
   * What {@code fstatfs} says about the file system a descriptor lives on.
   *
   * @return the file system's magic number and block size (a hugetlbfs's page size)
   */
  public static Statfs fstatfs(NativeFd fd) {
    int f = fd.acquire();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(Statfs.LAYOUT);
      int r = (int) LibC.FSTATFS.invokeExact(LibC.capture(), f, buffer);
      if (r != 0) {
        throw new ErrnoException("fstatfs", fd.path(), Errno.of(LibC.errno()));
      }
      return Statfs.from(buffer);
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /**
   * Creates an eventfd ({@code eventfd(0, EFD_CLOEXEC | flags)}): the descriptor a kernel driver
   * signals, here VFIO for each interrupt vector.
   *
   * @param flags such as {@link Posix#EFD_NONBLOCK}
   */
  public static NativeFd eventfd(int flags) {
    try {
      int fd = (int) LibC.EVENTFD.invokeExact(LibC.capture(), 0, flags | Posix.EFD_CLOEXEC);
      if (fd < 0) {
        throw new ErrnoException("eventfd", "a new eventfd", Errno.of(LibC.errno()));
      }
      return new NativeFd(fd, "eventfd");
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /** The size of the two {@code struct pollfd} {@link #pollReadable} fills in. */
  public static final long POLLFDS_BYTES = 16;

  /** The size of the {@code struct timespec} {@link #pollReadable} fills in. */
  public static final long TIMESPEC_BYTES = 16;

  /** {@link #pollReadable}: {@code fd} is readable. */
  public static final int READABLE = 1;

  /** {@link #pollReadable}: {@code wake} is readable: someone wants the waiter back. */
  public static final int WOKEN = 2;

  /**
   * Waits up to {@code timeoutNanos} for {@code fd}, or {@code wake}, to become readable ({@code
   * ppoll} with {@code POLLIN}), retrying on signals with the time left. Allocates nothing: the
   * caller provides the call's structures, {@link #POLLFDS_BYTES} and {@link #TIMESPEC_BYTES}
   * bytes, reusable.
   *
   * @return {@link #READABLE}, {@link #WOKEN}, or 0 if the time ran out
   */
  public static int pollReadable(
      NativeFd fd,
      NativeFd wake,
      MemorySegment pollfds,
      MemorySegment timespec,
      long timeoutNanos) {
    long deadline = System.nanoTime() + Math.max(0, timeoutNanos);
    int f = fd.acquire();
    try {
      int w = wake.acquire();
      try {
        while (true) {
          long left = Math.max(0, deadline - System.nanoTime());
          pollfds.set(ValueLayout.JAVA_INT, 0, f);
          pollfds.set(ValueLayout.JAVA_SHORT, 4, Posix.POLLIN);
          pollfds.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
          pollfds.set(ValueLayout.JAVA_INT, 8, w);
          pollfds.set(ValueLayout.JAVA_SHORT, 12, Posix.POLLIN);
          pollfds.set(ValueLayout.JAVA_SHORT, 14, (short) 0);
          timespec.set(ValueLayout.JAVA_LONG, 0, left / 1_000_000_000L);
          timespec.set(ValueLayout.JAVA_LONG, 8, left % 1_000_000_000L);
          int r =
              (int)
                  LibC.PPOLL.invokeExact(LibC.capture(), pollfds, 2L, timespec, MemorySegment.NULL);
          if (r > 0) {
            return pollfds.get(ValueLayout.JAVA_SHORT, 14) != 0 ? WOKEN : READABLE;
          }
          if (r == 0) {
            return 0;
          }
          retryOrThrow("ppoll", fd.path());
        }
      } finally {
        wake.release();
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /**
   * Reads up to {@code dst.byteSize()} bytes from a non-blocking descriptor.
   *
   * @return the count read, or -1 if nothing was there ({@code EAGAIN})
   */
  public static long tryRead(NativeFd fd, MemorySegment dst) {
    int f = fd.acquire();
    try {
      while (true) {
        long n = (long) LibC.READ.invokeExact(LibC.capture(), f, dst, dst.byteSize());
        if (n >= 0) {
          return n;
        }
        if (LibC.errno() == Errno.EAGAIN.number()) {
          return -1;
        }
        retryOrThrow("read", fd.path());
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /**
   * Binds the memory of {@code segment} to NUMA node {@code node} ({@code mbind(MPOL_BIND)}): pages
   * faulted in afterwards come from that node or not at all.
   *
   * @throws ErrnoException {@code EINVAL} for a node the machine lacks
   */
  public static void bindToNode(MemorySegment segment, int node, String description) {
    if (node < 0 || node >= 1024) {
      throw new IllegalArgumentException("NUMA node out of range: " + node);
    }
    long number = mbindNumber();
    try (Arena arena = Arena.ofConfined()) {
      // A bit mask of nodes, in longs; maxnode counts one more bit than the mask holds.
      MemorySegment mask = arena.allocate(ValueLayout.JAVA_LONG, 16);
      mask.setAtIndex(ValueLayout.JAVA_LONG, node / 64, 1L << (node % 64));
      long r =
          (long)
              LibC.SYSCALL6.invokeExact(
                  LibC.capture(),
                  number,
                  segment.address(),
                  segment.byteSize(),
                  (long) Posix.MPOL_BIND,
                  mask.address(),
                  16L * 64 + 1,
                  (long) Posix.MPOL_MF_STRICT);
      if (r != 0) {
        throw new ErrnoException("mbind node " + node, description, Errno.of(LibC.errno()));
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  private static long mbindNumber() {
    return switch (System.getProperty("os.arch")) {
      case "amd64", "x86_64" -> 237;
      case "aarch64" -> 235;
      default ->
          throw new UnsupportedOperationException(
              "mbind: no system call number for " + System.getProperty("os.arch"));
    };
  }

  /** The size of a base page, as the kernel maps memory ({@code getpagesize}). */
  public static int pageSize() {
    try {
      return (int) LibC.GETPAGESIZE.invokeExact();
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /** The effective user id; 0 is root. */
  public static int geteuid() {
    try {
      return (int) LibC.GETEUID.invokeExact();
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  /**
   * Takes ownership of a descriptor a call other than {@code open} returned, such as the device
   * descriptor from {@code VFIO_GROUP_GET_DEVICE_FD}.
   *
   * @param fd the descriptor, which the returned handle closes
   * @param description what it refers to, for messages
   */
  public static NativeFd adopt(int fd, String description) {
    if (fd < 0) {
      throw new IllegalArgumentException("not a descriptor: " + fd);
    }
    return new NativeFd(fd, description);
  }

  /** Reads up to {@code dst.byteSize()} bytes; returns the count read, 0 at end of file. */
  public static long read(NativeFd fd, MemorySegment dst) {
    int f = fd.acquire();
    try {
      while (true) {
        long n = (long) LibC.READ.invokeExact(LibC.capture(), f, dst, dst.byteSize());
        if (n >= 0) {
          return n;
        }
        retryOrThrow("read", fd.path());
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /** Writes up to {@code src.byteSize()} bytes in one call; returns the count written. */
  public static long write(NativeFd fd, MemorySegment src) {
    int f = fd.acquire();
    try {
      while (true) {
        long n = (long) LibC.WRITE.invokeExact(LibC.capture(), f, src, src.byteSize());
        if (n >= 0) {
          return n;
        }
        retryOrThrow("write", fd.path());
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /** Reads up to {@code dst.byteSize()} bytes at {@code offset}; returns the count read. */
  public static long pread(NativeFd fd, MemorySegment dst, long offset) {
    int f = fd.acquire();
    try {
      while (true) {
        long n = (long) LibC.PREAD.invokeExact(LibC.capture(), f, dst, dst.byteSize(), offset);
        if (n >= 0) {
          return n;
        }
        retryOrThrow("pread", fd.path() + " @0x" + Long.toHexString(offset));
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /** Writes up to {@code src.byteSize()} bytes at {@code offset}; returns the count written. */
  public static long pwrite(NativeFd fd, MemorySegment src, long offset) {
    int f = fd.acquire();
    try {
      while (true) {
        long n = (long) LibC.PWRITE.invokeExact(LibC.capture(), f, src, src.byteSize(), offset);
        if (n >= 0) {
          return n;
        }
        retryOrThrow("pwrite", fd.path() + " @0x" + Long.toHexString(offset));
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /** Issues a request that takes no argument; returns the call's non-negative result. */
  public static int ioctl(NativeFd fd, Ioctl request) {
    int f = fd.acquire();
    try {
      while (true) {
        int r = (int) LibC.IOCTL.invokeExact(LibC.capture(), f, request.request());
        if (r >= 0) {
          return r;
        }
        retryOrThrow("ioctl " + request.name(), fd.path());
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /** Issues a request that takes an integer argument; returns the call's non-negative result. */
  public static int ioctl(NativeFd fd, Ioctl request, long argument) {
    int f = fd.acquire();
    try {
      while (true) {
        int r = (int) LibC.IOCTL_LONG.invokeExact(LibC.capture(), f, request.request(), argument);
        if (r >= 0) {
          return r;
        }
        retryOrThrow("ioctl " + request.name(), fd.path());
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /**
   * Issues a request that takes a pointer to a structure; the kernel reads and writes {@code
   * argument} in place. Returns the call's non-negative result.
   */
  public static int ioctl(NativeFd fd, Ioctl request, MemorySegment argument) {
    int f = fd.acquire();
    try {
      while (true) {
        int r =
            (int) LibC.IOCTL_POINTER.invokeExact(LibC.capture(), f, request.request(), argument);
        if (r >= 0) {
          return r;
        }
        retryOrThrow("ioctl " + request.name(), fd.path());
      }
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
  }

  /**
   * Maps {@code length} bytes of {@code fd} at {@code offset}, shared, readable and writable.
   *
   * <p>The returned segment is bounded to {@code length} and belongs to {@code arena}: closing the
   * arena unmaps it, after which any access throws {@link IllegalStateException}. Use a shared
   * arena for memory that several threads touch (a driver thread and an interrupt thread).
   *
   * @throws ErrnoException if the kernel refuses the mapping
   */
  public static MemorySegment mmap(NativeFd fd, long offset, long length, Arena arena) {
    if (length <= 0) {
      throw new IllegalArgumentException("mapping length must be positive: " + length);
    }
    MemorySegment raw;
    int f = fd.acquire();
    try {
      raw =
          (MemorySegment)
              LibC.MMAP.invokeExact(
                  LibC.capture(),
                  MemorySegment.NULL,
                  length,
                  Posix.PROT_READ | Posix.PROT_WRITE,
                  Posix.MAP_SHARED,
                  f,
                  offset);
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    } finally {
      fd.release();
    }
    if (raw.address() == MAP_FAILED) {
      throw new ErrnoException(
          "mmap",
          fd.path() + " @0x" + Long.toHexString(offset) + " +0x" + Long.toHexString(length),
          Errno.of(LibC.errno()));
    }
    long address = raw.address();
    try {
      return raw.reinterpret(length, arena, unused -> munmap(address, length));
    } catch (RuntimeException e) {
      // The arena refused the mapping (closed, or confined to another thread): do not leak it.
      munmap(address, length);
      throw e;
    }
  }

  private static void munmap(long address, long length) {
    try {
      int unused = (int) LibC.MUNMAP.invokeExact(MemorySegment.ofAddress(address), length);
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  private static void retryOrThrow(String call, String target) {
    int errno = LibC.errno();
    if (errno != Errno.EINTR.number()) {
      throw new ErrnoException(call, target, Errno.of(errno));
    }
  }
}
