package dev.upcie.sim;

import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciFunction;
import dev.upcie.sim.sysfs.SimSysfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Keeps a simulated machine's {@code /dev} in step with its drivers, as udev does: {@code
 * /dev/vfio/vfio} while {@code vfio-pci} is loaded, and {@code /dev/vfio/N} for each IOMMU group
 * with a function bound to it.
 */
final class DeviceNodes {
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
      Set<String> groups = new TreeSet<>();
      for (PciFunction function : new PciBus(sysfs).functions()) {
        if (function.isBoundTo("vfio-pci") && function.iommuGroup().isPresent()) {
          groups.add(Integer.toString(function.iommuGroup().getAsInt()));
        }
      }
      if (loaded) {
        Files.createDirectories(vfio);
        touch(vfio.resolve("vfio"));
      }
      if (Files.isDirectory(vfio)) {
        try (Stream<Path> nodes = Files.list(vfio)) {
          for (Path node : nodes.toList()) {
            String name = node.getFileName().toString();
            if (!name.equals("vfio") && !groups.contains(name)) {
              Files.delete(node);
            }
          }
        }
      }
      for (String group : groups) {
        touch(vfio.resolve(group));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot update the simulated " + dev, e);
    }
  }

  private static void touch(Path node) throws IOException {
    if (!Files.exists(node)) {
      Files.createFile(node);
    }
  }
}
