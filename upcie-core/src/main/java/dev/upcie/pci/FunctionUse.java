package dev.upcie.pci;

import dev.upcie.host.Host;
import dev.upcie.procfs.MountEntry;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether the host uses a function through its kernel driver, judged from what it exposes: a block
 * device of the function (or a partition of one) that is mounted, used as swap, or held by another
 * block device (LVM, MD, dm-crypt). Moving such a function to a user-space driver would pull a disk
 * from under the system.
 *
 * <pre>{@code
 * FunctionUse.of(host, address).ifPresent(why -> { throw new PciException("refused: " + why); });
 * }</pre>
 */
public final class FunctionUse {
  private FunctionUse() {}

  /** Why {@code address} is in use on {@code host}; empty if nothing visible uses it. */
  public static Optional<String> of(Host host, PciAddress address) {
    Sysfs sysfs = host.sysfs();
    List<String> disks = FunctionNodes.disks(sysfs, address);
    if (disks.isEmpty()) {
      return Optional.empty();
    }
    List<String> uses = new ArrayList<>();
    List<MountEntry> mounts;
    try {
      mounts = host.procfs().mounts();
    } catch (UpcieException e) {
      mounts = List.of();
    }
    List<String> swaps = swaps(host.procfs().root().resolve("swaps"));
    for (String disk : disks) {
      List<String> names = new ArrayList<>(List.of(disk));
      names.addAll(partitions(sysfs, "class/block/" + disk, disk));
      for (String name : names) {
        String node = "/dev/" + name;
        for (MountEntry mount : mounts) {
          if (mount.source().equals(node)) {
            uses.add(node + " is mounted on " + mount.mountPoint());
          }
        }
        if (swaps.contains(node)) {
          uses.add(node + " is swap");
        }
        String holders = "class/block/" + name + "/holders";
        if (sysfs.exists(holders)) {
          for (String holder : sysfs.list(holders)) {
            uses.add(node + " is held by " + holder);
          }
        }
      }
    }
    return uses.isEmpty() ? Optional.empty() : Optional.of(String.join(", ", uses));
  }

  private static List<String> partitions(Sysfs sysfs, String disk, String name) {
    List<String> parts = new ArrayList<>();
    try {
      if (sysfs.exists(disk)) {
        for (String entry : sysfs.list(disk)) {
          if (entry.startsWith(name) && entry.length() > name.length()) {
            parts.add(entry);
          }
        }
      }
    } catch (UpcieException e) {
      // No partitions to see.
    }
    return parts;
  }

  private static List<String> swaps(Path file) {
    try {
      return Files.readAllLines(file).stream().skip(1).map(l -> l.split("\\s+")[0]).toList();
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
  }
}
