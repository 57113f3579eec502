package dev.upcie.sysfs;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Reads, writes, listings and symbolic links of sysfs, under a root directory.
 *
 * <p>This is the seam between a driver and the kernel's device model. {@link #system()} is the
 * machine's {@code /sys}; {@link #of(Path)} reads any tree laid out like it (a copy, a recording,
 * or the simulator's in-memory tree, whose writes to {@code bind}, {@code driver_override} and
 * friends behave as the kernel's do). Paths are relative to the root and use {@code /}, as in
 * {@code bus/pci/devices/0000:00:04.0/vendor}.
 *
 * <pre>{@code
 * Sysfs sysfs = Sysfs.system();
 * String vendor = sysfs.readAttribute("bus/pci/devices/0000:00:04.0/vendor"); // "0x1b36"
 * Optional<String> driver = sysfs.readLink("bus/pci/devices/0000:00:04.0/driver");
 * }</pre>
 *
 * <p>Every failure is a {@link SysfsException} carrying the path and the errno.
 */
public interface Sysfs {

  /** The machine's sysfs, {@code /sys}. */
  static Sysfs system() {
    return of(Path.of("/sys"));
  }

  /**
   * A sysfs tree rooted at {@code root}, on any file system.
   *
   * <p>Writes on the default file system go through {@code write(2)} directly, so the kernel's
   * errno for a refused write ({@code EBUSY}, {@code ENODEV}, ...) reaches the caller intact.
   */
  static Sysfs of(Path root) {
    return new HostSysfs(root);
  }

  /** The directory this view is rooted at. */
  Path root();

  /** The whole content of a text attribute, as the kernel returns it (with its newline). */
  String read(String path);

  /** The whole content of a binary attribute, such as {@code config}. */
  byte[] readBytes(String path);

  /**
   * Writes {@code value} to an attribute in a single {@code write(2)}, as the kernel expects.
   *
   * @throws SysfsException with the kernel's errno if the write is refused
   */
  void write(String path, String value);

  /**
   * Writes {@code bytes} at {@code offset} of a binary attribute (such as {@code config}) in a
   * single {@code pwrite(2)}. The kernel clips a write at the end of the attribute.
   *
   * @return the bytes written: fewer than given at the attribute's end
   * @throws SysfsException with the kernel's errno if the write is refused: EFBIG at or beyond the
   *     end
   */
  int writeBytes(String path, long offset, byte[] bytes);

  /** The names in a directory, sorted. */
  List<String> list(String directory);

  /** The target of a symbolic link as stored (usually relative), or empty if it is not a link. */
  Optional<String> readLink(String path);

  /** True if the path exists (following links). */
  boolean exists(String path);

  /** A text attribute without its trailing newline: {@code "0x1b36"} for {@code vendor}. */
  default String readAttribute(String path) {
    return read(path).strip();
  }

  /** The absolute path of {@code path} under {@link #root()}, for messages. */
  default Path resolve(String path) {
    return root().resolve(path);
  }
}
