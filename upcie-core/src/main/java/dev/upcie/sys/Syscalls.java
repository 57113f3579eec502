package dev.upcie.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
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
    Objects.requireNonNull(path, "path");
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment cPath = arena.allocateFrom(path);
      while (true) {
        int fd = (int) LibC.OPEN.invokeExact(LibC.capture(), cPath, flags | Posix.O_CLOEXEC, 0);
        if (fd >= 0) {
          return new NativeFd(fd, path);
        }
        int errno = LibC.errno();
        if (errno != Errno.EINTR.number()) {
          throw new ErrnoException("open", path, Errno.of(errno));
        }
      }
    } catch (ErrnoException e) {
      throw e;
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
