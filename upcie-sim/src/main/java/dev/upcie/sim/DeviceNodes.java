package dev.upcie.sim;

import dev.upcie.pci.PciAddress;
import dev.upcie.sim.sysfs.SimSysfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Keeps a simulated machine's {@code /dev} in step with its drivers, as udev does: {@code
 * /dev/vfio/vfio} while {@code vfio-pci} is loaded, {@code /dev/vfio/N} for each IOMMU group with a
 * function bound to it, and {@code /dev/uioN} and {@code /dev/nvmeN} for the class devices the
 * kernel lists under {@code class/uio} and {@code class/nvme}.
 */
final class DeviceNodes {
  /** The classes whose devices get a node of the same name directly under {@code /dev}. */
  private static final List<String> CLASSES = List.of("uio", "nvme");

  private final SimSysfs sysfs;
  private final Path dev;

  DeviceNodes(SimSysfs sysfs, Path dev) {
    this.sysfs = sysfs;
    this.dev = dev;
  }

  /** Brings the nodes up to date with the drivers now. */
  synchronized void sync() {
    try {
      Path vfio = dev.resolve("vfio");
      boolean loaded = sysfs.drivers().stream().anyMatch(d -> d.name().equals("vfio-pci"));
      // The groups of the functions bound to vfio-pci, read from the driver's links alone.
      Set<String> groups = new TreeSet<>();
      String bound = "bus/pci/drivers/vfio-pci";
      for (String name : sysfs.exists(bound) ? sysfs.list(bound) : List.<String>of()) {
        if (!PciAddress.isAddress(name)) {
          continue; // bind, unbind, new_id, remove_id
        }
        sysfs
            .readLink(bound + "/" + name + "/iommu_group")
            .ifPresent(group -> groups.add(group.substring(group.lastIndexOf('/') + 1)));
      }
      if (loaded) {
        Files.createDirectories(vfio);
        touch(vfio.resolve("vfio"));
      }
      if (Files.isDirectory(vfio)) {
        Set<String> wanted = new TreeSet<>(groups);
        wanted.add("vfio");
        prune(vfio, name -> !wanted.contains(name));
      }
      for (String group : groups) {
        touch(vfio.resolve(group));
      }
      for (String type : CLASSES) {
        String dir = "class/" + type;
        Set<String> devices = new TreeSet<>(sysfs.exists(dir) ? sysfs.list(dir) : List.of());
        prune(dev, name -> name.matches(type + "\\d+") && !devices.contains(name));
        for (String device : devices) {
          touch(dev.resolve(device));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot update the simulated " + dev, e);
    }
  }

  private static void prune(Path dir, java.util.function.Predicate<String> stale)
      throws IOException {
    try (Stream<Path> nodes = Files.list(dir)) {
      for (Path node : nodes.toList()) {
        if (Files.isRegularFile(node) && stale.test(node.getFileName().toString())) {
          Files.delete(node);
        }
      }
    }
  }

  private static void touch(Path node) throws IOException {
    if (!Files.exists(node)) {
      Files.createFile(node);
    }
  }
}
