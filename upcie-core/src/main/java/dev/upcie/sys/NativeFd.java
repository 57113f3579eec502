package dev.upcie.sys;

/**
 * An open file descriptor and the path it was opened from.
 *
 * <p>Closing twice is harmless, and a descriptor cannot be used after {@link #close()}: every
 * system call in {@link Syscalls} brackets itself with {@link #acquire()} and {@link #release()},
 * and the descriptor is really closed only when no call is using it. So a call racing with a close
 * on another thread either completes on this file or throws, and never reaches a file that a later
 * {@code open} was given the same number.
 *
 * <p>A close that waits for a call blocked in the kernel (say, a {@code read} on an eventfd)
 * happens when that call returns.
 */
public final class NativeFd implements AutoCloseable {
  private final int fd;
  private final String path;
  private int users;
  private boolean closed;

  NativeFd(int fd, String path) {
    this.fd = fd;
    this.path = path;
  }

  /**
   * Marks the start of a call on this descriptor and returns its number; pair with {@link
   * #release()} in a {@code finally}.
   *
   * @throws IllegalStateException if the descriptor is closed
   */
  public synchronized int acquire() {
    if (closed) {
      throw new IllegalStateException(path + " is closed");
    }
    users++;
    return fd;
  }

  /** Marks the end of a call; closes the descriptor if a close was waiting for it. */
  public void release() {
    boolean closeNow;
    synchronized (this) {
      users--;
      closeNow = closed && users == 0;
    }
    if (closeNow) {
      closeDescriptor();
    }
  }

  /** The path the descriptor was opened from, for messages. */
  public String path() {
    return path;
  }

  /** True until {@link #close()}. */
  public synchronized boolean isOpen() {
    return !closed;
  }

  /** Closes the descriptor, once no call is using it; later calls do nothing. */
  @Override
  public void close() {
    boolean closeNow;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      closeNow = users == 0;
    }
    if (closeNow) {
      closeDescriptor();
    }
  }

  @Override
  public synchronized String toString() {
    return "NativeFd[" + path + (closed ? ", closed" : ", fd " + fd) + "]";
  }

  private void closeDescriptor() {
    try {
      // Linux releases the descriptor even when close reports an error, so there is no retry.
      int unused = (int) LibC.CLOSE.invokeExact(fd);
    } catch (Throwable t) {
      throw LibC.rethrow(t);
    }
  }
}
