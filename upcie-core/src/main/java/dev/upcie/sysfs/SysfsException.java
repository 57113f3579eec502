package dev.upcie.sysfs;

import dev.upcie.errno.CarriesErrno;
import dev.upcie.errno.Errno;
import dev.upcie.support.UpcieException;
import java.nio.file.Path;

/**
 * A sysfs read, write or listing failed; carries the path and the kernel's errno.
 *
 * <p>Example message: {@code write "vfio-pci" to /sys/bus/pci/devices/0000:00:04.0/driver_override:
 * EACCES (Permission denied): writing sysfs needs root}.
 */
public final class SysfsException extends UpcieException implements CarriesErrno {
  private static final long serialVersionUID = 1L;

  private final transient Path path;
  private final transient Errno errno;

  /**
   * Creates the exception; the message is built from the parts and a hint for common errnos.
   *
   * @param operation what was attempted, such as {@code read} or {@code write "1"}
   * @param path the absolute path of the attribute
   * @param errno the error the kernel (or the simulator, on its behalf) returned
   */
  public SysfsException(String operation, Path path, Errno errno) {
    super(operation + " " + path + ": " + errno + hint(operation, path, errno));
    this.path = path;
    this.errno = errno;
  }

  /** The attribute or directory that failed. */
  public Path path() {
    return path;
  }

  /** The error number, such as {@code EBUSY} from a {@code bind} the driver refused. */
  @Override
  public Errno errno() {
    return errno;
  }

  /** What usually lies behind the errno for this attribute, and what to do about it. */
  private static String hint(String operation, Path path, Errno errno) {
    boolean write = operation.startsWith("write");
    String file = path.getFileName() == null ? "" : path.getFileName().toString();
    int number = errno.number();
    if (number == Errno.EACCES.number() || number == Errno.EPERM.number()) {
      return write
          ? ": writing sysfs needs root (or CAP_SYS_ADMIN), and some attributes are read-only"
          : ": this user may not read it; run as root";
    }
    if (!write) {
      return "";
    }
    return switch (file + " " + errno.name()) {
      case "bind EBUSY" -> ": the function is bound to a driver already; unbind it first";
      case "bind ENODEV" ->
          ": no function of that exact name (dddd:bb:dd.f), or the driver does not take it;"
              + " set the function's driver_override to the driver first";
      case "unbind ENODEV" -> ": the function is not bound to this driver";
      case "enable EBUSY" -> ": a driver is bound and owns the enable count; unbind it first";
      case "new_id EEXIST" -> ": the driver already has this id";
      case "remove_id ENODEV" -> ": the driver has no such dynamic id (new_id adds them)";
      case "reset ENOTTY" -> ": the function has no reset method";
      case "config EFBIG" -> ": past the end of the configuration space";
      default -> "";
    };
  }
}
