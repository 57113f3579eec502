package dev.upcie.sim.sysfs;

import dev.upcie.pci.PciAddress;
import dev.upcie.sim.sysfs.UmockdevRecording.RecordedDevice;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * A function's directory as a recording has it: every recorded attribute and link, byte for byte,
 * plus what the kernel has but a recording cannot hold: the write-only stores ({@code remove},
 * {@code rescan}) and the {@code resourceN} files derived from {@code resource}.
 */
record RecordedLayout(PciAddress address, RecordedDevice device) implements FunctionLayout {
  /**
   * Stores the kernel has for every function but does not let anyone read, so never recorded;
   * {@code reset} appears only with hardware that can reset.
   */
  static final String[] WRITE_ONLY = {"remove", "rescan"};

  @Override
  public String dir() {
    return device.path().substring(1);
  }

  @Override
  public Optional<String> bootDriver() {
    return target("driver");
  }

  /** The recorded IOMMU group, empty on a machine without IOMMU. */
  OptionalInt iommuGroup() {
    return target("iommu_group")
        .map(g -> OptionalInt.of(Integer.parseInt(g)))
        .orElse(OptionalInt.empty());
  }

  /** The last element of a recorded link's target: the driver's name, the group's number. */
  Optional<String> target(String link) {
    return Optional.ofNullable(device.links().get(link))
        .map(t -> t.substring(t.lastIndexOf('/') + 1));
  }

  @Override
  public void layOut(SysfsTree files) {
    String dir = dir();
    files.dir(dir);
    for (Map.Entry<String, byte[]> attribute : device.attributes().entrySet()) {
      files.bytes(dir + "/" + attribute.getKey(), attribute.getValue());
    }
    for (String store : WRITE_ONLY) {
      if (!device.attributes().containsKey(store)) {
        files.file(dir + "/" + store, "");
      }
    }
    device
        .attribute("resource")
        .ifPresent(r ->
            FunctionLayout.resourceFiles(files, dir, new String(r, StandardCharsets.US_ASCII)));
    device
        .links()
        .forEach((name, target) -> {
          // The driver core makes the driver link when it binds.
          if (!name.equals("driver")) {
            files.rawLink(dir + "/" + name, target);
          }
        });
    files.link("bus/pci/devices/" + address, dir);
    iommuGroup()
        .ifPresent(g -> {
          files.dir("kernel/iommu_groups/" + g + "/devices");
          files.link("kernel/iommu_groups/" + g + "/devices/" + address, dir);
        });
  }
}
