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
import java.util.stream.Collectors;

/**
 * Whether the host uses a function through its kernel driver, judged from what it exposes: a block
 * device of the function (or a partition of one) that is mounted, used as swap, or held by another
 * block device (LVM, MD, dm-crypt), followed through those holders to what is mounted on them.
 * Moving such a function to a user-space driver would pull a disk from under the system.
 *
 * <p>This is what any user can see: {@code mounts}, {@code swaps} and sysfs' {@code holders}. Open
 * device nodes are {@link BindPreflight}'s to check, since finding them reads every process.
 *
 * <pre>{@code
 * FunctionUse.of(host, address).ifPresent(why -> { throw new PciException("refused: " + why); });
 * }</pre>
 */
public final class FunctionUse {
  /** How deep holders may stack (dm on md on a partition...) before we stop following. */
  private static final int MAX_DEPTH = 8;

  private FunctionUse() {}

  /** What kind of use. */
  public enum Kind {
    /** A filesystem on the disk, or on a device stacked on it, is mounted. */
    MOUNTED,
    /** The disk, or a device stacked on it, is swap. */
    SWAP,
    /** Another block device (LVM, MD, dm-crypt) holds the disk, though nothing is mounted on it. */
    HELD
  }

  /**
   * One use of one of the function's disks.
   *
   * @param kind what kind
   * @param description a sentence naming the node and the use: {@code /dev/nvme0n1p1 is mounted on
   *     /data}
   * @param subject what the fix acts on: the mount point, the swap device, the holder
   */
  public record Use(Kind kind, String description, String subject) {
    @Override
    public String toString() {
      return description;
    }
  }

  /** Why {@code address} is in use on {@code host}; empty if nothing visible uses it. */
  public static Optional<String> of(Host host, PciAddress address) {
    List<Use> uses = uses(host, address);
    return uses.isEmpty()
        ? Optional.empty()
        : Optional.of(uses.stream().map(Use::description).collect(Collectors.joining(", ")));
  }

  /** Every visible use of {@code address}'s disks on {@code host}, in the order of its disks. */
  public static List<Use> uses(Host host, PciAddress address) {
    Sysfs sysfs = host.sysfs();
    List<String> disks = FunctionNodes.disks(sysfs, address);
    if (disks.isEmpty()) {
      return List.of();
    }
    List<MountEntry> mounts;
    try {
      mounts = host.procfs().mounts();
    } catch (UpcieException e) {
      mounts = List.of();
    }
    Context context = new Context(sysfs, mounts, swaps(host.procfs().root().resolve("swaps")));
    List<Use> uses = new ArrayList<>();
    for (String disk : disks) {
      List<String> names = new ArrayList<>(List.of(disk));
      names.addAll(partitions(sysfs, "class/block/" + disk, disk));
      for (String name : names) {
        context.collect(name, "/dev/" + name, "", 0, uses);
      }
    }
    return uses;
  }

  private record Context(Sysfs sysfs, List<MountEntry> mounts, List<String> swaps) {
    /**
     * Adds the uses of block device {@code name}. {@code base} is the function's own node it stacks
     * on and {@code stack} the devices in between, for the message: {@code /dev/mapper/vg-data
     * (dm-0 on /dev/nvme0n1p1) is mounted on /data}.
     */
    void collect(String name, String base, String stack, int depth, List<Use> uses) {
      List<String> nodes = nodes(name);
      String shown = nodes.getLast() + (stack.isEmpty() ? "" : " (" + stack + " on " + base + ")");
      for (MountEntry mount : mounts) {
        if (nodes.contains(mount.source())) {
          uses.add(
              new Use(
                  Kind.MOUNTED,
                  shown + " is mounted on " + mount.mountPoint(),
                  mount.mountPoint().toString()));
        }
      }
      for (String node : nodes) {
        if (swaps.contains(node)) {
          uses.add(new Use(Kind.SWAP, shown + " is swap", node));
        }
      }
      String holders = "class/block/" + name + "/holders";
      List<String> held = sysfs.exists(holders) ? sysfs.list(holders) : List.of();
      for (String holder : held) {
        int before = uses.size();
        if (depth < MAX_DEPTH) {
          collect(
              holder, base, stack.isEmpty() ? holder : holder + " on " + stack, depth + 1, uses);
        }
        if (uses.size() == before) {
          uses.add(new Use(Kind.HELD, shown + " is held by " + holder, holder));
        }
      }
    }

    /** {@code /dev/dm-0} and the name a mount shows for it, {@code /dev/mapper/vg-data}. */
    private List<String> nodes(String name) {
      List<String> nodes = new ArrayList<>(List.of("/dev/" + name));
      String dmName = "class/block/" + name + "/dm/name";
      try {
        if (sysfs.exists(dmName)) {
          nodes.add("/dev/mapper/" + sysfs.read(dmName).strip());
        }
      } catch (UpcieException e) {
        // Removed meanwhile: its /dev name is all we know.
      }
      return nodes;
    }
  }

  /** The partitions of disk {@code name}, whose sysfs directory is {@code disk}. */
  static List<String> partitions(Sysfs sysfs, String disk, String name) {
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
