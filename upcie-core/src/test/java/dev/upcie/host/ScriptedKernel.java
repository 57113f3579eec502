package dev.upcie.host;

import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import dev.upcie.sys.Ioctl;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Syscalls;
import dev.upcie.sys.SystemCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * System calls with a script: opens of given paths fail with a given errno, ioctls are answered by
 * handlers named after the request. Everything else is this machine's. For the failures a real
 * kernel gives only under conditions a test cannot create: a group another process holds, a
 * locked-memory limit, a device without MSI-X.
 */
public final class ScriptedKernel implements SystemCalls {
  /** Answers an ioctl: the return value, or an {@link ErrnoException}. */
  @FunctionalInterface
  public interface Handler {
    /**
     * @param argument the structure passed, or null for requests that take none or an integer
     * @param value the integer passed, or 0
     */
    int handle(MemorySegment argument, long value);
  }

  private final Map<String, Errno> openFailures = new HashMap<>();
  private final Map<String, Handler> handlers = new HashMap<>();
  private final List<String> opened = new ArrayList<>();
  private final List<String> ioctls = new ArrayList<>();
  private final List<MemorySegment> mappings = new ArrayList<>();

  /** Opens of {@code path} fail with {@code errno}. */
  public ScriptedKernel failOpen(String path, Errno errno) {
    openFailures.put(path, errno);
    return this;
  }

  /** Requests named {@code name} (such as {@code VFIO_GET_API_VERSION}) go to {@code handler}. */
  public ScriptedKernel on(String name, Handler handler) {
    handlers.put(name, handler);
    return this;
  }

  /** Requests named {@code name} fail with {@code errno}. */
  public ScriptedKernel fail(String name, Errno errno) {
    return on(
        name,
        (argument, value) -> {
          throw new ErrnoException("ioctl " + name, "scripted", errno);
        });
  }

  /** Every path opened, in order. */
  public synchronized List<String> opened() {
    return List.copyOf(opened);
  }

  /** Every ioctl made, by name, in order. */
  public synchronized List<String> ioctls() {
    return List.copyOf(ioctls);
  }

  /**
   * A descriptor for a handler to return, as the kernel returns a new one (a VFIO device's): this
   * file opened, its number handed over to whoever adopts it.
   */
  public static int descriptorFor(String path) {
    return Syscalls.open(path, dev.upcie.sys.Posix.O_RDWR).acquire();
  }

  @Override
  public synchronized NativeFd open(String path, int flags) {
    opened.add(path);
    Errno errno = openFailures.get(path);
    if (errno != null) {
      throw new ErrnoException("open", path, errno);
    }
    return Syscalls.open(path, flags);
  }

  @Override
  public int ioctl(NativeFd fd, Ioctl request) {
    return dispatch(fd, request, null, 0);
  }

  @Override
  public int ioctl(NativeFd fd, Ioctl request, long argument) {
    return dispatch(fd, request, null, argument);
  }

  @Override
  public int ioctl(NativeFd fd, Ioctl request, MemorySegment argument) {
    return dispatch(fd, request, argument, 0);
  }

  /** A BAR mapping: ordinary memory of the length asked for, which the test can look at. */
  @Override
  public synchronized MemorySegment mmap(NativeFd fd, long offset, long length, Arena arena) {
    MemorySegment memory = arena.allocate(length, 4096);
    mappings.add(memory);
    return memory;
  }

  /** Every mapping made, in order. */
  public synchronized List<MemorySegment> mappings() {
    return List.copyOf(mappings);
  }

  private int dispatch(NativeFd fd, Ioctl request, MemorySegment argument, long value) {
    synchronized (this) {
      ioctls.add(request.name());
    }
    Handler handler = handlers.get(request.name());
    if (handler == null) {
      throw new ErrnoException("ioctl " + request.name(), fd.path(), Errno.ENOTTY);
    }
    return handler.handle(argument, value);
  }
}
