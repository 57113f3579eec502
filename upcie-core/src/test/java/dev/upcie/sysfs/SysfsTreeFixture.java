package dev.upcie.sysfs;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a small sysfs-shaped tree with real files and relative links, as the kernel lays it out.
 */
public final class SysfsTreeFixture {
  private final Path root;

  public SysfsTreeFixture(Path root) {
    this.root = root;
    mkdirs("bus/pci/devices");
    mkdirs("bus/pci/drivers");
    mkdirs("kernel/iommu_groups");
  }

  public Path root() {
    return root;
  }

  /** Adds a function under devices/pci0000:00 with the usual attributes. */
  public SysfsTreeFixture function(
      String address,
      String vendor,
      String device,
      String classCode,
      String driver,
      Integer group) {
    String dir = "devices/pci0000:00/" + address;
    mkdirs(dir);
    file(dir + "/vendor", vendor + "\n");
    file(dir + "/device", device + "\n");
    file(dir + "/subsystem_vendor", "0x1af4\n");
    file(dir + "/subsystem_device", "0x1100\n");
    file(dir + "/class", classCode + "\n");
    file(dir + "/revision", "0x02\n");
    file(dir + "/numa_node", "-1\n");
    file(dir + "/driver_override", "(null)\n");
    link("bus/pci/devices/" + address, "../../../devices/pci0000:00/" + address);
    if (driver != null) {
      mkdirs("bus/pci/drivers/" + driver);
      link(dir + "/driver", "../../../bus/pci/drivers/" + driver);
    }
    if (group != null) {
      mkdirs("kernel/iommu_groups/" + group + "/devices");
      link(dir + "/iommu_group", "../../../kernel/iommu_groups/" + group);
    }
    return this;
  }

  public SysfsTreeFixture file(String path, String content) {
    try {
      Files.writeString(root.resolve(path), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  /** Creates a directory (and its parents). */
  public SysfsTreeFixture dir(String path) {
    mkdirs(path);
    return this;
  }

  /**
   * A class device of the function at {@code address}, as the kernel links it: {@code
   * class/CLASS/NAME} to the device's directory {@code below} the function (such as {@code
   * virtio1/block/vda}), which it creates.
   */
  public SysfsTreeFixture classDevice(String className, String name, String address, String below) {
    String device = "devices/pci0000:00/" + address + "/" + below;
    mkdirs(device);
    mkdirs("class/" + className);
    link("class/" + className + "/" + name, "../../" + device);
    return this;
  }

  /** Writes a binary attribute, such as {@code config}. */
  public SysfsTreeFixture bytes(String path, byte[] content) {
    try {
      Files.write(root.resolve(path), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  private void mkdirs(String path) {
    try {
      Files.createDirectories(root.resolve(path));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void link(String path, String target) {
    try {
      Files.createSymbolicLink(root.resolve(path), Path.of(target));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
