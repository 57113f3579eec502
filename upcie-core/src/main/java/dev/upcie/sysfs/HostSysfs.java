package dev.upcie.sysfs;

import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/** {@link Sysfs} over a directory tree: reads through NIO, writes through {@code write(2)}. */
final class HostSysfs implements Sysfs {
  private final Path root;
  private final boolean nativeWrites;

  HostSysfs(Path root) {
    this.root = Objects.requireNonNull(root, "root");
    this.nativeWrites = root.getFileSystem() == FileSystems.getDefault();
  }

  @Override
  public Path root() {
    return root;
  }

  @Override
  public String read(String path) {
    Path file = resolve(path);
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw failure("read", file, e);
    }
  }

  @Override
  public byte[] readBytes(String path) {
    Path file = resolve(path);
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw failure("read", file, e);
    }
  }

  @Override
  public void write(String path, String value) {
    Path file = resolve(path);
    String operation = "write \"" + value.strip() + "\" to";
    byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
    if (!nativeWrites) {
      try {
        Files.write(file, bytes, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
      } catch (IOException e) {
        throw failure(operation, file, e);
      }
      return;
    }
    // One write(2) with the whole value: sysfs stores act on each write call separately.
    // O_TRUNC matters for plain-file trees (copies, recordings); sysfs ignores it.
    try (NativeFd fd = Syscalls.open(file.toString(), Posix.O_WRONLY | Posix.O_TRUNC);
        Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(Math.max(1, bytes.length));
      MemorySegment.copy(bytes, 0, buffer, ValueLayout.JAVA_BYTE, 0, bytes.length);
      long written = Syscalls.write(fd, buffer.asSlice(0, bytes.length));
      if (written != bytes.length) {
        throw new SysfsException(operation + " (short write " + written + ")", file, Errno.EIO);
      }
    } catch (ErrnoException e) {
      throw new SysfsException(operation, file, e.errno());
    }
  }

  @Override
  public int writeBytes(String path, long offset, byte[] bytes) {
    Path file = resolve(path);
    String operation = "write " + bytes.length + " bytes at " + offset + " of";
    if (!nativeWrites) {
      try (java.nio.channels.FileChannel channel =
          java.nio.channels.FileChannel.open(file, StandardOpenOption.WRITE)) {
        return channel.write(java.nio.ByteBuffer.wrap(bytes), offset);
      } catch (IOException e) {
        throw failure(operation, file, e);
      }
    }
    try (NativeFd fd = Syscalls.open(file.toString(), Posix.O_WRONLY);
        Arena arena = Arena.ofConfined()) {
      MemorySegment buffer = arena.allocate(Math.max(1, bytes.length));
      MemorySegment.copy(bytes, 0, buffer, ValueLayout.JAVA_BYTE, 0, bytes.length);
      return (int) Syscalls.pwrite(fd, buffer.asSlice(0, bytes.length), offset);
    } catch (ErrnoException e) {
      throw new SysfsException(operation, file, e.errno());
    }
  }

  @Override
  public List<String> list(String directory) {
    Path dir = resolve(directory);
    try (Stream<Path> entries = Files.list(dir)) {
      return entries.map(p -> p.getFileName().toString()).sorted().toList();
    } catch (IOException e) {
      throw failure("list", dir, e);
    }
  }

  @Override
  public Optional<String> readLink(String path) {
    Path link = resolve(path);
    if (!Files.isSymbolicLink(link)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Files.readSymbolicLink(link).toString());
    } catch (IOException e) {
      throw failure("readlink", link, e);
    }
  }

  @Override
  public boolean exists(String path) {
    return Files.exists(resolve(path));
  }

  @Override
  public String toString() {
    return "Sysfs[" + root + "]";
  }

  private static SysfsException failure(String operation, Path path, IOException e) {
    SysfsException failure = new SysfsException(operation, path, errnoOf(e));
    failure.initCause(e);
    return failure;
  }

  /** NIO reports errno as exception types and strerror text; recover the errno from them. */
  private static Errno errnoOf(IOException e) {
    if (e instanceof NoSuchFileException) {
      return Errno.ENOENT;
    }
    if (e instanceof AccessDeniedException) {
      return Errno.EACCES;
    }
    if (e instanceof NotDirectoryException) {
      return Errno.ENOTDIR;
    }
    if (e instanceof FileSystemException fse && fse.getReason() != null) {
      for (Errno candidate :
          List.of(
              Errno.ENODEV, Errno.EBUSY, Errno.EINVAL, Errno.ENXIO, Errno.EPERM, Errno.EISDIR)) {
        if (fse.getReason().equals(candidate.description())) {
          return candidate;
        }
      }
    }
    return Errno.EIO;
  }
}
