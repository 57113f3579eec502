package dev.upcie.sys;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The C library functions this toolkit calls, as FFM downcall handles.
 *
 * <p>Every call that can fail captures {@code errno} in a per-thread capture segment, so the value
 * read after the call is the one that call set (the JVM itself may call into libc in between).
 * Calls used from arena cleanups ({@code close}, {@code munmap}) capture nothing: a cleanup must
 * not allocate, and it has no way to report a failure anyway.
 */
@SuppressWarnings("restricted")
final class LibC {
  private static final Linker LINKER = Linker.nativeLinker();
  private static final SymbolLookup LOOKUP = LINKER.defaultLookup();
  private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE_LAYOUT.varHandle(PathElement.groupElement("errno"));
  private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");
  private static final Linker.Option VARIADIC_FROM_2 = Linker.Option.firstVariadicArg(2);

  // Allocated once per thread, so a call costs no allocation for its errno.
  private static final ThreadLocal<MemorySegment> CAPTURE =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE_LAYOUT));

  /** {@code int open(const char *path, int flags, ... mode_t mode)}. */
  static final MethodHandle OPEN =
      downcall(
          "open",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT),
          CAPTURE_ERRNO,
          VARIADIC_FROM_2);

  /** {@code int close(int fd)}, without errno capture: safe in cleanups. */
  static final MethodHandle CLOSE = downcall("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));

  /** {@code ssize_t read(int fd, void *buf, size_t count)}. */
  static final MethodHandle READ =
      downcall(
          "read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);

  /** {@code ssize_t write(int fd, const void *buf, size_t count)}. */
  static final MethodHandle WRITE =
      downcall(
          "write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);

  /** {@code ssize_t pread(int fd, void *buf, size_t count, off_t offset)}. */
  static final MethodHandle PREAD =
      downcall(
          "pread",
          FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG),
          CAPTURE_ERRNO);

  /** {@code ssize_t pwrite(int fd, const void *buf, size_t count, off_t offset)}. */
  static final MethodHandle PWRITE =
      downcall(
          "pwrite",
          FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG),
          CAPTURE_ERRNO);

  /** {@code int ioctl(int fd, unsigned long request)}: requests without an argument. */
  static final MethodHandle IOCTL =
      downcall(
          "ioctl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG),
          CAPTURE_ERRNO,
          VARIADIC_FROM_2);

  /** {@code int ioctl(int fd, unsigned long request, long arg)}: requests taking a value. */
  static final MethodHandle IOCTL_LONG =
      downcall(
          "ioctl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, JAVA_LONG),
          CAPTURE_ERRNO,
          VARIADIC_FROM_2);

  /** {@code int ioctl(int fd, unsigned long request, void *arg)}: requests taking a struct. */
  static final MethodHandle IOCTL_POINTER =
      downcall(
          "ioctl",
          FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS),
          CAPTURE_ERRNO,
          VARIADIC_FROM_2);

  /** {@code void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)}. */
  static final MethodHandle MMAP =
      downcall(
          "mmap",
          FunctionDescriptor.of(
              ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG),
          CAPTURE_ERRNO);

  /** {@code int munmap(void *addr, size_t length)}, without errno capture: used in cleanups. */
  static final MethodHandle MUNMAP =
      downcall("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));

  /** {@code int memfd_create(const char *name, unsigned int flags)}. */
  static final MethodHandle MEMFD_CREATE =
      downcall("memfd_create", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);

  /** {@code int ftruncate(int fd, off_t length)}. */
  static final MethodHandle FTRUNCATE =
      downcall("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE_ERRNO);

  /** {@code off_t lseek(int fd, off_t offset, int whence)}. */
  static final MethodHandle LSEEK =
      downcall(
          "lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);

  /** {@code int mlock(const void *addr, size_t len)}. */
  static final MethodHandle MLOCK =
      downcall("mlock", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG), CAPTURE_ERRNO);

  /** {@code int madvise(void *addr, size_t length, int advice)}. */
  static final MethodHandle MADVISE =
      downcall(
          "madvise", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT), CAPTURE_ERRNO);

  /** {@code int unlink(const char *path)}, without errno capture: used in cleanups. */
  static final MethodHandle UNLINK = downcall("unlink", FunctionDescriptor.of(JAVA_INT, ADDRESS));

  /**
   * {@code int mount(const char *source, const char *target, const char *type, ulong flags, const
   * void *data)}.
   */
  static final MethodHandle MOUNT =
      downcall(
          "mount",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS),
          CAPTURE_ERRNO);

  /** {@code int umount2(const char *target, int flags)}. */
  static final MethodHandle UMOUNT2 =
      downcall("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);

  /** {@code int fstatfs(int fd, struct statfs *buf)}. */
  static final MethodHandle FSTATFS =
      downcall("fstatfs", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS), CAPTURE_ERRNO);

  /** {@code int eventfd(unsigned int initval, int flags)}. */
  static final MethodHandle EVENTFD =
      downcall("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);

  /**
   * {@code int ppoll(struct pollfd *fds, nfds_t nfds, const struct timespec *tmo, const sigset_t
   * *sigmask)}.
   */
  static final MethodHandle PPOLL =
      downcall(
          "ppoll",
          FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, ADDRESS, ADDRESS),
          CAPTURE_ERRNO);

  /**
   * {@code long syscall(long number, ...)} with six integer arguments: for calls glibc has no
   * wrapper for ({@code mbind}).
   */
  static final MethodHandle SYSCALL6 =
      downcall(
          "syscall",
          FunctionDescriptor.of(
              JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_LONG,
              JAVA_LONG),
          CAPTURE_ERRNO,
          Linker.Option.firstVariadicArg(1));

  /** {@code int getpagesize(void)}: cannot fail. */
  static final MethodHandle GETPAGESIZE = downcall("getpagesize", FunctionDescriptor.of(JAVA_INT));

  /** {@code uid_t geteuid(void)}: cannot fail. */
  static final MethodHandle GETEUID = downcall("geteuid", FunctionDescriptor.of(JAVA_INT));

  private static final MethodHandle STRERRORNAME_NP =
      optionalDowncall("strerrorname_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));
  private static final MethodHandle STRERRORDESC_NP =
      optionalDowncall("strerrordesc_np", FunctionDescriptor.of(ADDRESS, JAVA_INT));

  private LibC() {}

  /** The calling thread's errno capture segment, passed as the first argument of a downcall. */
  static MemorySegment capture() {
    return CAPTURE.get();
  }

  /** The errno the last call on this thread left in {@link #capture()}. */
  static int errno() {
    return (int) ERRNO.get(CAPTURE.get(), 0L);
  }

  /** glibc's name for an errno value, or {@code NULL} if unknown or unavailable. */
  static MemorySegment strerrorname(int errno) {
    return callStringFunction(STRERRORNAME_NP, errno);
  }

  /** glibc's description of an errno value, or {@code NULL} if unknown or unavailable. */
  static MemorySegment strerrordesc(int errno) {
    return callStringFunction(STRERRORDESC_NP, errno);
  }

  /** Rethrows what a downcall threw; only programming errors get here, never errno failures. */
  static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException e) {
      throw e;
    }
    if (t instanceof Error e) {
      throw e;
    }
    throw new IllegalStateException("unexpected checked exception from a downcall", t);
  }

  private static MemorySegment callStringFunction(MethodHandle handle, int errno) {
    if (handle == null) {
      return MemorySegment.NULL;
    }
    try {
      return (MemorySegment) handle.invokeExact(errno);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static MethodHandle downcall(
      String name, FunctionDescriptor descriptor, Linker.Option... options) {
    return LINKER.downcallHandle(LOOKUP.findOrThrow(name), descriptor, options);
  }

  private static MethodHandle optionalDowncall(String name, FunctionDescriptor descriptor) {
    return LOOKUP.find(name).map(s -> LINKER.downcallHandle(s, descriptor)).orElse(null);
  }
}
