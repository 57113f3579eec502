package dev.upcie.pci;

import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Runs sysfs stores that can block in the kernel (an unbind whose driver waits for its users, and
 * the probe after it) where a timeout can still act.
 *
 * <p>On a real sysfs that is a child process: a thread of ours stuck uninterruptibly in {@code
 * write} would keep the whole JVM from exiting, while a stuck child is left to finish on its own
 * (it completes the stores once the kernel lets go). On a simulated sysfs, whose kernel lives in
 * this process, it is a daemon thread.
 */
final class BlockingStores {
  /** Writes each value to its file in turn; stops at the first that fails. */
  private static final String SCRIPT =
      "while [ $# -gt 1 ]; do printf '%s' \"$1\" > \"$2\" || exit 1; shift 2; done";

  private BlockingStores() {}

  /** One store: {@code value} written to {@code path} (relative to the sysfs root). */
  record Store(String path, String value) {}

  /**
   * Still blocked when the timeout ran out.
   *
   * @param worker what is left finishing the stores: "process 1234" or "thread upcie-unbind"
   */
  record Pending(String worker) {}

  /**
   * Runs {@code stores} in order, waiting at most {@code timeout}.
   *
   * @return empty once all are done; the worker still blocked if the timeout ran out
   * @throws PciException if a store was refused; the ones before it were made
   */
  static Optional<Pending> run(Sysfs sysfs, List<Store> stores, Duration timeout) {
    return sysfs.root().getFileSystem() == FileSystems.getDefault()
        ? inChild(sysfs, stores, timeout)
        : inThread(sysfs, stores, timeout);
  }

  private static Optional<Pending> inChild(Sysfs sysfs, List<Store> stores, Duration timeout) {
    List<String> command = new ArrayList<>(List.of("/bin/sh", "-c", SCRIPT, "upcie-unbind"));
    for (Store store : stores) {
      command.add(store.value());
      command.add(sysfs.resolve(store.path()).toString());
    }
    Process child;
    try {
      child =
          new ProcessBuilder(command)
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
    } catch (IOException e) {
      throw new PciException("cannot start /bin/sh to write " + describe(sysfs, stores), e);
    }
    try {
      if (!child.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        // Left running: it cannot be killed while in the kernel, and it finishes the stores.
        return Optional.of(new Pending("process " + child.pid()));
      }
      if (child.exitValue() != 0) {
        String error =
            new String(child.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        throw new PciException(
            "writing "
                + describe(sysfs, stores)
                + " failed: "
                + (error.isEmpty() ? "exit status " + child.exitValue() : error));
      }
      return Optional.empty();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of(new Pending("process " + child.pid()));
    } catch (IOException e) {
      throw new PciException(
          "cannot read what the child writing "
              + describe(sysfs, stores)
              + " reported: "
              + e.getMessage(),
          e);
    }
  }

  private static Optional<Pending> inThread(Sysfs sysfs, List<Store> stores, Duration timeout) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread worker =
        Thread.ofPlatform()
            .daemon()
            .name("upcie-unbind")
            .start(() -> {
              try {
                for (Store store : stores) {
                  sysfs.write(store.path(), store.value());
                }
                done.complete(null);
              } catch (Throwable t) {
                done.completeExceptionally(t);
              }
            });
    try {
      done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
      return Optional.empty();
    } catch (TimeoutException e) {
      return Optional.of(new Pending("thread " + worker.getName()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of(new Pending("thread " + worker.getName()));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof UpcieException failure) {
        throw failure;
      }
      throw new PciException(
          "writing " + describe(sysfs, stores) + " failed: " + e.getCause(), e.getCause());
    }
  }

  private static String describe(Sysfs sysfs, List<Store> stores) {
    return String.join(
        ", then ", stores.stream().map(s -> s.value() + " to " + sysfs.resolve(s.path())).toList());
  }
}
