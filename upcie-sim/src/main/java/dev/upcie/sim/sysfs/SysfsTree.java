package dev.upcie.sim.sysfs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * File operations on the simulated sysfs tree, by path relative to its root. The tree lives in
 * jimfs, which is thread-safe, so callers lock only to keep several files consistent.
 */
final class SysfsTree {
  private final Path root;

  SysfsTree(Path root) {
    this.root = root;
  }

  Path root() {
    return root;
  }

  Path resolve(String path) {
    return root.resolve(path);
  }

  boolean exists(String path) {
    return Files.exists(root.resolve(path));
  }

  void dir(String path) {
    try {
      Files.createDirectories(root.resolve(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void file(String path, String content) {
    bytes(path, content.getBytes(StandardCharsets.UTF_8));
  }

  void bytes(String path, byte[] content) {
    Path file = root.resolve(path);
    try {
      Path parent = file.getParent();
      if (!Files.isDirectory(parent)) {
        Files.createDirectories(parent);
      }
      Files.write(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  byte[] readBytes(String path) {
    try {
      return Files.readAllBytes(root.resolve(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A link at {@code path} to {@code target}, both relative to the root; stored relative. */
  void link(String path, String target) {
    Path link = root.resolve(path);
    Path relative = link.getParent().relativize(root.resolve(target));
    try {
      Files.createDirectories(link.getParent());
      Files.createSymbolicLink(link, relative);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A link at {@code path} with {@code target} exactly as given (as a recording has it). */
  void rawLink(String path, String target) {
    Path link = root.resolve(path);
    try {
      Files.createDirectories(link.getParent());
      Files.createSymbolicLink(link, root.getFileSystem().getPath(target));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  void delete(String path) {
    try {
      Files.deleteIfExists(root.resolve(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Deletes a directory and everything in it, without following links. */
  void deleteTree(String path) {
    Path top = root.resolve(path);
    if (!Files.exists(top, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(top)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** {@code file} with links resolved, relative to the root: what the kernel dispatches on. */
  String realRelative(Path file) {
    try {
      return root.toRealPath().relativize(file.toRealPath()).toString();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
