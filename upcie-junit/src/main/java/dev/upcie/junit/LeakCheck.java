package dev.upcie.junit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Checks that a test on a real device leaves nothing of it behind, even when it fails: no open
 * descriptor of a device node, eventfd, sysfs file or memfd, no such mapping, and the locked memory
 * ({@code VmLck}, which VFIO type1 charges for every page it pins for DMA) back where it was.
 *
 * <p>The snapshot is taken before the test's devices open and compared when JUnit closes the test's
 * store, after them: JUnit closes a store's resources in the reverse order they were added. A leak
 * fails the test with what leaked.
 */
@SuppressWarnings("deprecation") // CloseableResource: JUnit 5 closes only those before 5.13
final class LeakCheck implements AutoCloseable, ExtensionContext.Store.CloseableResource {
  private final Snapshot before;

  private LeakCheck(Snapshot before) {
    this.before = before;
  }

  /** A check of what the process holds now. */
  static LeakCheck start() {
    return new LeakCheck(Snapshot.take());
  }

  @Override
  public void close() {
    List<String> leaks = before.leaksIn(Snapshot.take());
    if (!leaks.isEmpty()) {
      throw new AssertionError(
          "the test left device resources behind (@PciDeviceSettings(checkLeaks = false) to allow"
              + " it): "
              + String.join("; ", leaks));
    }
  }

  /** What of a device a process can hold. */
  record Snapshot(List<String> descriptors, List<String> mappings, long lockedKb) {
    static Snapshot take() {
      return new Snapshot(openDescriptors(), deviceMappings(), lockedMemoryKb());
    }

    /** What is in {@code now} and was not here: each list as a multiset difference. */
    List<String> leaksIn(Snapshot now) {
      List<String> leaks = new ArrayList<>();
      List<String> fds = new ArrayList<>(now.descriptors);
      descriptors.forEach(fds::remove);
      fds.forEach(fd -> leaks.add("descriptor " + fd));
      List<String> maps = new ArrayList<>(now.mappings);
      mappings.forEach(maps::remove);
      maps.forEach(map -> leaks.add("mapping " + map));
      if (now.lockedKb != lockedKb) {
        leaks.add(
            "locked memory (VmLck) " + lockedKb + " kB before, " + now.lockedKb + " kB after");
      }
      return leaks;
    }

    private static List<String> openDescriptors() {
      List<String> targets = new ArrayList<>();
      try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
        for (Path fd : fds.toList()) {
          try {
            String target = Files.readSymbolicLink(fd).toString();
            if (isDeviceResource(target)) {
              targets.add(target);
            }
          } catch (IOException e) {
            // The descriptor Files.list itself used is gone by now.
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      targets.sort(null);
      return targets;
    }

    private static List<String> deviceMappings() {
      try {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream()
            .map(line -> line.split("\\s+", 6))
            .filter(f -> f.length == 6 && isDeviceResource(f[5]))
            .map(f -> f[0] + " " + f[5])
            .sorted()
            .toList();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static long lockedMemoryKb() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (line.startsWith("VmLck:")) {
            return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      throw new IllegalStateException("no VmLck in /proc/self/status");
    }

    /** Device nodes, VFIO and eventfd inodes, sysfs files, memfds and hugetlbfs files. */
    private static boolean isDeviceResource(String target) {
      // The JDK's NativePRNG opens these on first use and keeps them for the JVM's life.
      if (target.equals("/dev/random") || target.equals("/dev/urandom")) {
        return false;
      }
      return target.startsWith("/dev/")
          || target.startsWith("anon_inode:")
          || target.startsWith("/sys/")
          || target.startsWith("/memfd:")
          || target.contains("upcie-");
    }
  }
}
