package dev.upcie.pci;

import dev.upcie.sysfs.Sysfs;

/**
 * One step of a {@link BindPlan}: what {@code --dry-run} prints and {@link PciDriverBinder} carries
 * out, in the same order.
 */
public sealed interface BindStep {

  /**
   * The step as a shell command on {@code sysfs}: {@code echo vfio-pci > /sys/.../driver_override}.
   */
  String command(Sysfs sysfs);

  /**
   * Loads a kernel module: a driver's that is not loaded, or whichever claims a function's
   * modalias.
   *
   * @param module the module or driver name, or a modalias, as {@code modprobe} takes it
   * @param optional true if finding no module is fine (a function no kernel driver claims)
   */
  record LoadModule(String module, boolean optional) implements BindStep {
    /** A module that must load. */
    public LoadModule(String module) {
      this(module, false);
    }

    @Override
    public String command(Sysfs sysfs) {
      return optional ? "modprobe -q " + module + " || true" : "modprobe " + module;
    }
  }

  /**
   * Writes one sysfs attribute.
   *
   * @param path the attribute, relative to the sysfs root
   * @param value what is written; a lone newline clears {@code driver_override}
   * @param purpose why, which decides how it is carried out
   */
  record Write(String path, String value, Purpose purpose) implements BindStep {
    @Override
    public String command(Sysfs sysfs) {
      String target = sysfs.resolve(path).toString();
      return value.isBlank() ? "echo > " + target : "echo " + value + " > " + target;
    }
  }

  /**
   * Checks the outcome: the {@code driver} link, and the device node the driver makes.
   *
   * @param address the function
   * @param driver the driver it must be bound to, empty text for none, {@link #ANY} for any
   */
  record Verify(PciAddress address, String driver) implements BindStep {
    /** The driver of a verification that accepts whichever driver the kernel chose. */
    public static final String ANY = "*";

    @Override
    public String command(Sysfs sysfs) {
      String link = sysfs.resolve(PciBus.dir(address) + "/driver").toString();
      return driver.isEmpty()
          ? "test ! -e " + link
          : driver.equals(ANY)
              ? "readlink " + link
              : "test \"$(basename \"$(readlink " + link + ")\")\" = " + driver;
    }
  }

  /** Why a {@link Write} is made. */
  enum Purpose {
    /** {@code driver_override}: set, restored or cleared. */
    OVERRIDE,
    /** {@code drivers/X/unbind}: may block in the kernel, so it runs where a timeout can act. */
    UNBIND,
    /** {@code drivers_probe}: retried, since a probe can fail for a moment. */
    PROBE,
    /** {@code drivers/X/bind}: binds to one named driver. */
    BIND
  }
}
