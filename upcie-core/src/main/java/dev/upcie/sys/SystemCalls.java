package dev.upcie.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The system calls the real backends make on a device, as an interface: every method defaults to
 * the machine's call in {@link Syscalls}, and core's tests override some to fail the way a kernel
 * fails only under conditions a test cannot create ({@code EBUSY} from a group another process
 * holds, {@code ENOMEM} from a locked-memory limit).
 *
 * <p>A {@link dev.upcie.host.Host} that implements {@link Source} carries its own; every other host
 * gets {@link #REAL}.
 */
public interface SystemCalls {
  /** This machine's system calls. */
  SystemCalls REAL = new SystemCalls() {};

  /** The calls a host makes: its own if it is a {@link Source}, else {@link #REAL}. */
  static SystemCalls of(Object host) {
    return host instanceof Source source ? source.systemCalls() : REAL;
  }

  /** Something, such as a scripted test host, that brings its own system calls. */
  interface Source {
    /** The calls to make instead of the machine's. */
    SystemCalls systemCalls();
  }

  /** {@link Syscalls#open(String, int)}. */
  default NativeFd open(String path, int flags) {
    return Syscalls.open(path, flags);
  }

  /** {@link Syscalls#ioctl(NativeFd, Ioctl)}. */
  default int ioctl(NativeFd fd, Ioctl request) {
    return Syscalls.ioctl(fd, request);
  }

  /** {@link Syscalls#ioctl(NativeFd, Ioctl, long)}. */
  default int ioctl(NativeFd fd, Ioctl request, long argument) {
    return Syscalls.ioctl(fd, request, argument);
  }

  /** {@link Syscalls#ioctl(NativeFd, Ioctl, MemorySegment)}. */
  default int ioctl(NativeFd fd, Ioctl request, MemorySegment argument) {
    return Syscalls.ioctl(fd, request, argument);
  }

  /** {@link Syscalls#mmap}. */
  default MemorySegment mmap(NativeFd fd, long offset, long length, Arena arena) {
    return Syscalls.mmap(fd, offset, length, arena);
  }

  /** {@link Syscalls#pread}. */
  default long pread(NativeFd fd, MemorySegment dst, long offset) {
    return Syscalls.pread(fd, dst, offset);
  }

  /** {@link Syscalls#pwrite}. */
  default long pwrite(NativeFd fd, MemorySegment src, long offset) {
    return Syscalls.pwrite(fd, src, offset);
  }

  /** {@link Syscalls#write}. */
  default long write(NativeFd fd, MemorySegment src) {
    return Syscalls.write(fd, src);
  }

  /** {@link Syscalls#eventfd}. */
  default NativeFd eventfd(int flags) {
    return Syscalls.eventfd(flags);
  }
}
