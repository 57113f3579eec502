package dev.upcie.it.qemu;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a cpio archive in the "newc" format the kernel unpacks as an initramfs: directories,
 * regular files, symbolic links and device nodes, owned by root.
 *
 * <p>Written here rather than by {@code cpio(1)} so the guest image is built the same way wherever
 * the tests run, with no tool beyond the JDK.
 */
final class Cpio implements AutoCloseable {
  private static final int S_IFDIR = 0040000;
  private static final int S_IFREG = 0100000;
  private static final int S_IFLNK = 0120000;
  private static final int S_IFCHR = 0020000;

  private final OutputStream out;
  private long written;
  private int inode = 1;

  Cpio(OutputStream out) {
    this.out = out;
  }

  /** A directory, mode 0755. */
  Cpio directory(String name) throws IOException {
    return entry(name, S_IFDIR | 0755, 0, 0, new byte[0]);
  }

  /** A regular file with {@code content}. */
  Cpio file(String name, int permissions, byte[] content) throws IOException {
    return entry(name, S_IFREG | permissions, 0, 0, content);
  }

  /** A regular file copied from the host. */
  Cpio file(String name, int permissions, Path source) throws IOException {
    return file(name, permissions, Files.readAllBytes(source));
  }

  /** A symbolic link to {@code target}. */
  Cpio symlink(String name, String target) throws IOException {
    return entry(name, S_IFLNK | 0777, 0, 0, target.getBytes(StandardCharsets.UTF_8));
  }

  /** A character device node, such as {@code dev/console} (5, 1). */
  Cpio characterDevice(String name, int major, int minor) throws IOException {
    return entry(name, S_IFCHR | 0600, major, minor, new byte[0]);
  }

  /** Writes the trailer; the archive is complete after this. */
  @Override
  public void close() throws IOException {
    entry("TRAILER!!!", 0, 0, 0, new byte[0]);
    out.flush();
  }

  private Cpio entry(String name, int mode, int rdevMajor, int rdevMinor, byte[] content)
      throws IOException {
    byte[] nameBytes = (name + "\0").getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream header = new ByteArrayOutputStream();
    header.writeBytes("070701".getBytes(StandardCharsets.US_ASCII));
    int[] fields = {
      name.equals("TRAILER!!!") ? 0 : inode++, // ino
      mode,
      0, // uid
      0, // gid
      (mode & S_IFDIR) == S_IFDIR ? 2 : 1, // nlink
      0, // mtime
      content.length,
      0, // devmajor
      0, // devminor
      rdevMajor,
      rdevMinor,
      nameBytes.length,
      0 // check
    };
    for (int field : fields) {
      header.writeBytes(String.format("%08x", field).getBytes(StandardCharsets.US_ASCII));
    }
    write(header.toByteArray());
    write(nameBytes);
    pad();
    write(content);
    pad();
    return this;
  }

  private void write(byte[] bytes) throws IOException {
    out.write(bytes);
    written += bytes.length;
  }

  private void pad() throws IOException {
    while (written % 4 != 0) {
      out.write(0);
      written++;
    }
  }
}
