package dev.upcie.errno;

import dev.upcie.support.UpcieException;

/**
 * A system call failed: carries the call, what it was applied to, and the {@link Errno}.
 *
 * <p>The message reads like strace output, for example {@code open(/dev/vfio/vfio): ENOENT (No such
 * file or directory)}. Layers above catch it and add what it means for them and what to do.
 */
public final class ErrnoException extends UpcieException implements CarriesErrno {
  private static final long serialVersionUID = 1L;

  private final String call;
  private final String target;
  private final transient Errno errno;

  /**
   * Creates the exception.
   *
   * @param call the call, such as {@code open} or {@code ioctl VFIO_GROUP_GET_STATUS}
   * @param target the path or device the call was applied to
   * @param errno the error the kernel returned
   */
  public ErrnoException(String call, String target, Errno errno) {
    super(call + "(" + target + "): " + errno);
    this.call = call;
    this.target = target;
    this.errno = errno;
  }

  /** The failed call, such as {@code open}. */
  public String call() {
    return call;
  }

  /** The path or device the call was applied to. */
  public String target() {
    return target;
  }

  @Override
  public Errno errno() {
    return errno;
  }
}
