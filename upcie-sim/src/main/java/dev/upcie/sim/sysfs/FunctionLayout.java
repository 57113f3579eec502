package dev.upcie.sim.sysfs;

import dev.upcie.pci.PciAddress;
import java.util.Optional;

/**
 * One function's directory as the kernel lays it out: generated from a {@link SimFunction}, or
 * copied from a recording. The driver core lays it out at boot and again on a rescan after a {@code
 * remove}.
 */
sealed interface FunctionLayout permits GeneratedLayout, RecordedLayout {

  PciAddress address();

  /** The function's directory relative to the sysfs root: {@code devices/pci0000:00/...}. */
  String dir();

  /** The driver bound at boot, empty for none. */
  Optional<String> bootDriver();

  /**
   * Writes the directory with its attributes, the {@code bus/pci/devices} link and the IOMMU group
   * links; the driver core adds the driver link.
   */
  void layOut(SysfsTree tree);

  /**
   * The {@code resourceN} files: empty, since jimfs cannot map them; {@code resource} has sizes.
   */
  static void resourceFiles(SysfsTree tree, String dir, String resource) {
    String[] lines = resource.split("\n");
    for (int i = 0; i < Math.min(6, lines.length); i++) {
      String[] fields = lines[i].trim().split("\\s+");
      if (fields.length == 3
          && !fields[0].equals(fields[1])
          && !tree.exists(dir + "/resource" + i)) {
        tree.file(dir + "/resource" + i, "");
      }
    }
  }

  /** The kernel's directory name for a function on a root bus. */
  static String rootBusDir(PciAddress address) {
    String name = address.toString();
    // The domain is 4 hex digits, or 8 behind a VMD; the bus follows it.
    int colon = name.indexOf(':');
    return "devices/pci" + name.substring(0, colon + 3) + "/" + name;
  }
}
