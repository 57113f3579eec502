package dev.upcie.doctor;

import dev.upcie.errno.Errno;
import dev.upcie.host.Host;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsException;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The files the checks read, each one missing (an empty answer, which is itself a finding) or
 * unreadable ({@link Unreadable}, which makes the check UNKNOWN), never an exception that ends the
 * examination.
 *
 * <p>{@code /proc} is read through a {@link Sysfs} rooted at the host's procfs, since {@code
 * Procfs} offers only the files other parts need; the module files live outside both trees, under a
 * directory the caller names.
 */
final class Trees {
  private final Host host;
  private final Sysfs sys;
  private final Sysfs proc;
  private final Path modules;

  Trees(Host host, Path modules) {
    this.host = host;
    this.sys = host.sysfs();
    this.proc = Sysfs.of(host.procfs().root());
    this.modules = modules;
  }

  Host host() {
    return host;
  }

  /** A sysfs attribute without its newline, empty if it does not exist. */
  Optional<String> sys(String path) {
    return read(sys, path);
  }

  /** A procfs file without its final newline, empty if it does not exist. */
  Optional<String> proc(String path) {
    return read(proc, path);
  }

  boolean sysExists(String path) {
    return sys.exists(path);
  }

  /** The names in a sysfs directory, empty if it does not exist. */
  List<String> sysList(String directory) {
    if (!sys.exists(directory)) {
      return List.of();
    }
    try {
      return sys.list(directory);
    } catch (SysfsException e) {
      throw unreadable(sys, directory, e);
    }
  }

  Path sysPath(String path) {
    return sys.resolve(path);
  }

  Path procPath(String path) {
    return proc.resolve(path);
  }

  /** A device node or directory under the host's {@code /dev}. */
  Path dev(String path) {
    return host.dev().resolve(path);
  }

  /** The directory of the running kernel's modules: {@code /lib/modules/RELEASE}. */
  Path modules(String release) {
    return modules.resolve(release);
  }

  /** The lines of a file outside the trees (a module index), empty if it does not exist. */
  Optional<List<String>> lines(Path file) {
    try {
      return Optional.of(Files.readAllLines(file));
    } catch (NoSuchFileException e) {
      return Optional.empty();
    } catch (AccessDeniedException e) {
      throw new Unreadable(file, "permission denied", true);
    } catch (IOException e) {
      throw new Unreadable(file, e.toString(), false);
    }
  }

  private static Optional<String> read(Sysfs tree, String path) {
    if (!tree.exists(path)) {
      return Optional.empty();
    }
    try {
      return Optional.of(tree.read(path).stripTrailing());
    } catch (SysfsException e) {
      if (e.is(Errno.ENOENT)) {
        return Optional.empty();
      }
      throw unreadable(tree, path, e);
    }
  }

  private static Unreadable unreadable(Sysfs tree, String path, SysfsException e) {
    boolean denied = e.is(Errno.EACCES) || e.is(Errno.EPERM);
    return new Unreadable(
        tree.resolve(path), denied ? "permission denied" : e.errno().toString(), denied);
  }
}
