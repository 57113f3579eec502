package dev.upcie.pci;

import dev.upcie.host.Host;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Exclusive use of one function among every process on the machine that asks: tests running in
 * parallel forks, the command line, another test run. A file lock on {@code <runtime
 * directory>/locks/<address>.lock} ({@link Host#runtimeDirectory()}), which the kernel drops when
 * its process dies; threads of one process take turns through the same lock.
 *
 * <pre>{@code
 * try (PciDeviceLock lock = PciDeviceLock.acquire(host, address, Duration.ofMinutes(1))) {
 *   // bind, open, test, close, restore
 * }
 * }</pre>
 */
public final class PciDeviceLock implements AutoCloseable {
  // File locks belong to the process: threads of this one queue here first.
  private static final ConcurrentMap<Path, Semaphore> IN_PROCESS = new ConcurrentHashMap<>();
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final Path file;
  private final Semaphore turn;
  private final FileChannel channel;
  private final FileLock lock;
  private boolean closed;

  private PciDeviceLock(Path file, Semaphore turn, FileChannel channel, FileLock lock) {
    this.file = file;
    this.turn = turn;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock of {@code address} on {@code host}, waiting up to {@code timeout} for whoever
   * holds it.
   *
   * @throws PciException if it is still held after {@code timeout}, naming the process that holds
   *     it, or if the lock file cannot be made
   */
  public static PciDeviceLock acquire(Host host, PciAddress address, Duration timeout) {
    Path file =
        host.runtimeDirectory()
            .resolve("locks")
            .resolve(address.toString().replace(':', '_') + ".lock")
            .toAbsolutePath();
    long deadline = System.nanoTime() + timeout.toNanos();
    Semaphore turn = IN_PROCESS.computeIfAbsent(file, f -> new Semaphore(1, true));
    try {
      if (!turn.tryAcquire(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new PciException(
            address
                + " is still in use by another thread of this process after "
                + timeout.toSeconds()
                + " s (a test of another scope, or parallel tests on one device): give the"
                + " tests that share it one scope, or run them one at a time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PciException("interrupted while waiting for the lock of " + address, e);
    }
    FileChannel channel = null;
    try {
      Files.createDirectories(file.getParent());
      channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock;
      while ((lock = channel.tryLock()) == null) {
        if (System.nanoTime() - deadline >= 0) {
          throw new PciException(
              address
                  + " is in use by "
                  + holder(file)
                  + " (lock "
                  + file
                  + ") after waiting "
                  + timeout.toSeconds()
                  + " s; let it finish, or stop it");
        }
        Thread.sleep(Duration.ofNanos(POLL_NANOS));
      }
      channel.truncate(0);
      channel.write(
          ByteBuffer.wrap(
              (ProcessHandle.current().pid() + " " + command() + "\n")
                  .getBytes(StandardCharsets.UTF_8)),
          0);
      return new PciDeviceLock(file, turn, channel, lock);
    } catch (IOException | InterruptedException | RuntimeException e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      closeQuietly(channel);
      turn.release();
      if (e instanceof PciException pci) {
        throw pci;
      }
      throw new PciException("cannot lock " + address + " with " + file + ": " + e.getMessage(), e);
    }
  }

  /** The lock file. */
  public Path file() {
    return file;
  }

  /** Lets the next waiter have the function. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      lock.release();
    } catch (IOException e) {
      // Closing the channel below releases it all the same.
    }
    closeQuietly(channel);
    turn.release();
  }

  private static String holder(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8).strip();
      return text.isEmpty() ? "another process" : "process " + text;
    } catch (IOException e) {
      return "another process";
    }
  }

  private static String command() {
    return ProcessHandle.current()
        .info()
        .command()
        .map(c -> Path.of(c).getFileName().toString())
        .orElse("java");
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        // Nothing left to do with it.
      }
    }
  }
}
