package dev.upcie.sys;

/**
 * An open file descriptor and the path it was opened from.
 *
 * <p>Closing twice is harmless; using the descriptor after {@link #close()} throws instead of
 * touching whatever file a later {@code open} might have been given the same number.
 */
public final class NativeFd implements AutoCloseable {
  private final String path;
  private int fd;

  NativeFd(int fd, String path) {
    this.fd = fd;
    this.path = path;
  }

  /**
   * Returns the descriptor number for a system call.
   *
   * @throws IllegalStateException if the descriptor is closed
   */
  public synchronized int get() {
    if (fd < 0) {
      throw new IllegalStateException(path + " is closed");
    }
    return fd;
  }

  /** The path the descriptor was opened from, for messages. */
  public String path() {
    return path;
  }

  /** True until {@link #close()}. */
  public synchronized boolean isOpen() {
    return fd >= 0;
  }

  /** Closes the descriptor; later calls do nothing. */
  @Override
  public synchronized void close() {
    if (fd < 0) {
      return;
    }
    int number = fd;
    fd = -1;
    try {
      // Linux releases the descriptor even when close reports an error, so there is no retry.
      int unused = (int) LibC.CLOSE.invokeExact(number);
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }

  @Override
  public String toString() {
    return "NativeFd[" + path + (fd >= 0 ? ", fd " + fd : ", closed") + "]";
  }
}
