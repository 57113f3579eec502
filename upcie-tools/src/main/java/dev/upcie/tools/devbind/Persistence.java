package dev.upcie.tools.devbind;

import dev.upcie.host.Host;
import dev.upcie.pci.PciAddress;
import dev.upcie.support.UpcieException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Bindings kept across reboots the way driverctl keeps them: one file {@code
 * /etc/driverctl.d/pci-<address>} holding the driver's name. driverctl's udev rule and {@code
 * driverctl@.service} apply it when the function appears at boot, so the two tools share one set of
 * persisted overrides.
 */
final class Persistence {
  private final Path directory;

  private Persistence(Path directory) {
    this.directory = directory;
  }

  /** The persisted overrides of {@code host}: {@code /etc/driverctl.d} in its file system. */
  static Persistence of(Host host) {
    return new Persistence(host.dev().getFileSystem().getPath("/etc/driverctl.d"));
  }

  /** The file that persists {@code address}'s driver. */
  Path file(PciAddress address) {
    return directory.resolve("pci-" + address);
  }

  /** Persists {@code driver} for {@code address}, as {@code driverctl set-override} does. */
  void persist(PciAddress address, String driver) {
    try {
      Files.createDirectories(directory);
      Files.writeString(file(address), driver + "\n");
    } catch (IOException e) {
      throw new UpcieException(
          "cannot persist "
              + address
              + " on "
              + driver
              + " in "
              + file(address)
              + " ("
              + e.getMessage()
              + "); the binding is made but will not survive a reboot; persisting needs root",
          e);
    }
  }

  /** Forgets {@code address}'s persisted driver, if any; true if there was one. */
  boolean forget(PciAddress address) {
    try {
      return Files.deleteIfExists(file(address));
    } catch (IOException e) {
      throw new UpcieException(
          "cannot remove " + file(address) + " (" + e.getMessage() + "); remove it as root", e);
    }
  }
}
