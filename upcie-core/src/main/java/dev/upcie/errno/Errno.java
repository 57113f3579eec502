package dev.upcie.errno;

import dev.upcie.sys.ErrnoNames;
import java.util.Map;

/**
 * A Linux error number with its symbolic name and description, as in {@code EBUSY (Device or
 * resource busy)}.
 *
 * <p>The errors a driver meets every day are constants here; any other number is named by glibc's
 * {@code strerrorname_np}/{@code strerrordesc_np} (thread-safe, unlike {@code strerror}).
 *
 * @param number the value of {@code errno}
 * @param name the symbolic name, such as {@code ENODEV}
 * @param description the C library's text for it
 */
public record Errno(int number, String name, String description) {
  public static final Errno EPERM = new Errno(1, "EPERM", "Operation not permitted");
  public static final Errno ENOENT = new Errno(2, "ENOENT", "No such file or directory");
  public static final Errno EINTR = new Errno(4, "EINTR", "Interrupted system call");
  public static final Errno EIO = new Errno(5, "EIO", "Input/output error");
  public static final Errno ENXIO = new Errno(6, "ENXIO", "No such device or address");
  public static final Errno EBADF = new Errno(9, "EBADF", "Bad file descriptor");
  public static final Errno EAGAIN = new Errno(11, "EAGAIN", "Resource temporarily unavailable");
  public static final Errno ENOMEM = new Errno(12, "ENOMEM", "Cannot allocate memory");
  public static final Errno EACCES = new Errno(13, "EACCES", "Permission denied");
  public static final Errno EFAULT = new Errno(14, "EFAULT", "Bad address");
  public static final Errno EBUSY = new Errno(16, "EBUSY", "Device or resource busy");
  public static final Errno EEXIST = new Errno(17, "EEXIST", "File exists");
  public static final Errno ENODEV = new Errno(19, "ENODEV", "No such device");
  public static final Errno ENOTDIR = new Errno(20, "ENOTDIR", "Not a directory");
  public static final Errno EISDIR = new Errno(21, "EISDIR", "Is a directory");
  public static final Errno EINVAL = new Errno(22, "EINVAL", "Invalid argument");
  public static final Errno ENOTTY = new Errno(25, "ENOTTY", "Inappropriate ioctl for device");
  public static final Errno EFBIG = new Errno(27, "EFBIG", "File too large");
  public static final Errno ENOSPC = new Errno(28, "ENOSPC", "No space left on device");
  public static final Errno EROFS = new Errno(30, "EROFS", "Read-only file system");
  public static final Errno ERANGE = new Errno(34, "ERANGE", "Numerical result out of range");
  public static final Errno ENOSYS = new Errno(38, "ENOSYS", "Function not implemented");
  public static final Errno EOPNOTSUPP = new Errno(95, "EOPNOTSUPP", "Operation not supported");
  public static final Errno ETIMEDOUT = new Errno(110, "ETIMEDOUT", "Connection timed out");

  private static final Map<Integer, Errno> KNOWN =
      Map.ofEntries(
          entry(EPERM),
          entry(ENOENT),
          entry(EINTR),
          entry(EIO),
          entry(ENXIO),
          entry(EBADF),
          entry(EAGAIN),
          entry(ENOMEM),
          entry(EACCES),
          entry(EFAULT),
          entry(EBUSY),
          entry(EEXIST),
          entry(ENODEV),
          entry(ENOTDIR),
          entry(EISDIR),
          entry(EINVAL),
          entry(ENOTTY),
          entry(EFBIG),
          entry(ENOSPC),
          entry(EROFS),
          entry(ERANGE),
          entry(ENOSYS),
          entry(EOPNOTSUPP),
          entry(ETIMEDOUT));

  /** Returns the errno for {@code number}, naming it through the C library if it is uncommon. */
  public static Errno of(int number) {
    Errno known = KNOWN.get(number);
    if (known != null) {
      return known;
    }
    return fromLibc(number);
  }

  /** Returns {@code ENODEV (No such device)}. */
  @Override
  public String toString() {
    return name + " (" + description + ")";
  }

  private static Map.Entry<Integer, Errno> entry(Errno errno) {
    return Map.entry(errno.number, errno);
  }

  private static Errno fromLibc(int number) {
    return new Errno(
        number,
        ErrnoNames.name(number).orElse("E" + number),
        ErrnoNames.description(number).orElse("Unknown error " + number));
  }
}
