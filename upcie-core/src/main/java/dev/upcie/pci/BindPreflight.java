package dev.upcie.pci;

import dev.upcie.host.Host;
import dev.upcie.procfs.OpenFile;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The safety checks made before a function leaves its driver: what {@link PciDriverBinder} asks
 * before it writes anything. Each finding is a {@link BindRefusal} naming its {@link BindCheck};
 * the caller may override checks one by name.
 *
 * <pre>{@code
 * List<BindRefusal> refusals =
 *     BindPreflight.check(host, address, Optional.of("vfio-pci"), Set.of(address));
 * // [0000:01:00.0: /dev/nvme0n1p1 is mounted on /data [mounted]: unmount it first (umount /data)]
 * }</pre>
 */
public final class BindPreflight {
  /** Drivers that leave a group viable for VFIO: they never let the device do DMA. */
  private static final Set<String> VIABLE_DRIVERS = Set.of("pci-stub", "pcieport");

  private BindPreflight() {}

  /**
   * What stands against moving {@code address} off its driver and, if {@code target} is present,
   * onto that one.
   *
   * @param moving every function being moved together with this one (the whole group, with {@code
   *     --whole-group}): the group check does not count them as left behind
   * @return the refusals, empty if the move is safe as far as can be seen
   */
  public static List<BindRefusal> check(
      Host host, PciAddress address, Optional<String> target, Set<PciAddress> moving) {
    Sysfs sysfs = host.sysfs();
    PciBus bus = new PciBus(sysfs);
    PciFunction function = bus.function(address);
    List<BindRefusal> refusals = new ArrayList<>();
    for (FunctionUse.Use use : FunctionUse.uses(host, address)) {
      refusals.add(
          switch (use.kind()) {
            case MOUNTED ->
                refusal(
                    BindCheck.MOUNTED,
                    address,
                    use.description(),
                    use.subject().equals("/") || use.subject().startsWith("/boot")
                        ? "it holds the filesystem this machine runs from; leave it to its driver"
                        : "unmount it first (`umount " + use.subject() + "`)");
            case SWAP ->
                refusal(
                    BindCheck.SWAP,
                    address,
                    use.description(),
                    "turn it off first (`swapoff " + use.subject() + "`)");
            case HELD ->
                refusal(BindCheck.HELD, address, use.description(), BindCheck.HELD.remedy());
          });
    }
    List<FunctionNode> nodes = FunctionNodes.of(sysfs, function);
    for (OpenFile open : host.procfs().openFiles(deviceNodes(sysfs, nodes)).open()) {
      refusals.add(
          refusal(
              BindCheck.OPEN,
              address,
              open.toString(),
              "stop process " + open.pid() + " or let it close the device first"));
    }
    for (FunctionNode node : nodes) {
      if (node.kind() == FunctionNode.Kind.NETWORK_INTERFACE && isUp(sysfs, node.name())) {
        refusals.add(
            refusal(
                BindCheck.NETWORK,
                address,
                "network interface " + node.name() + " is up",
                "take it down first (`ip link set " + node.name() + " down`)"));
      }
    }
    if (target.filter(FunctionNodes::isVfio).isPresent() && function.iommuGroup().isPresent()) {
      int group = function.iommuGroup().getAsInt();
      for (PciAddress member : bus.iommuGroupMembers(group)) {
        if (moving.contains(member) || member.equals(address)) {
          continue;
        }
        Optional<PciFunction> other = bus.find(member);
        Optional<String> driver = other.flatMap(PciFunction::driver);
        if (driver.isEmpty()
            || FunctionNodes.isVfio(driver.get())
            || VIABLE_DRIVERS.contains(driver.get())
            || isBridge(sysfs, member)) {
          continue;
        }
        refusals.add(
            refusal(
                BindCheck.GROUP,
                address,
                "IOMMU group "
                    + group
                    + " also holds "
                    + member
                    + " on "
                    + driver.get()
                    + ", and VFIO opens a group only when every endpoint in it is on vfio-pci or on"
                    + " no driver",
                "move the whole group (--whole-group), or leave it"));
      }
    }
    return refusals;
  }

  /**
   * The endpoints of {@code address}'s IOMMU group that must move with it for VFIO to accept the
   * group: {@code address} itself and every other member on a driver that keeps the group from
   * being viable. Bridges and functions with no driver stay where they are.
   */
  public static List<PciAddress> groupToMove(Sysfs sysfs, PciAddress address) {
    PciBus bus = new PciBus(sysfs);
    PciFunction function = bus.function(address);
    Set<PciAddress> moving = new LinkedHashSet<>(List.of(address));
    if (function.iommuGroup().isPresent()) {
      for (PciAddress member : bus.iommuGroupMembers(function.iommuGroup().getAsInt())) {
        Optional<String> driver = bus.find(member).flatMap(PciFunction::driver);
        if (driver.isPresent()
            && !FunctionNodes.isVfio(driver.get())
            && !VIABLE_DRIVERS.contains(driver.get())
            && !isBridge(sysfs, member)) {
          moving.add(member);
        }
      }
    }
    return List.copyOf(moving);
  }

  private static BindRefusal refusal(
      BindCheck check, PciAddress address, String reason, String fix) {
    return new BindRefusal(check, address, reason, fix);
  }

  /** The device nodes of a function, partitions included, as {@code /proc/<pid>/fd} names them. */
  private static Set<String> deviceNodes(Sysfs sysfs, List<FunctionNode> nodes) {
    Set<String> paths = new LinkedHashSet<>();
    for (FunctionNode node : nodes) {
      if (node.kind() == FunctionNode.Kind.NETWORK_INTERFACE) {
        continue;
      }
      paths.add(node.name());
      if (node.kind() == FunctionNode.Kind.BLOCK) {
        String disk = node.name().substring("/dev/".length());
        for (String part : FunctionUse.partitions(sysfs, "class/block/" + disk, disk)) {
          paths.add("/dev/" + part);
        }
      }
    }
    return paths;
  }

  /** IFF_UP in {@code class/net/<name>/flags}: the administrator brought it up. */
  private static boolean isUp(Sysfs sysfs, String name) {
    try {
      String flags = sysfs.read("class/net/" + name + "/flags").strip();
      return (Long.decode(flags) & 0x1) != 0;
    } catch (UpcieException | NumberFormatException e) {
      return false;
    }
  }

  /** Header type 1 (PCI-PCI bridge) or 2 (CardBus), from the world-readable start of config. */
  private static boolean isBridge(Sysfs sysfs, PciAddress address) {
    try {
      byte[] config = sysfs.readBytes(PciBus.dir(address) + "/config");
      int type = config.length > 0x0e ? config[0x0e] & 0x7f : 0;
      return type == 1 || type == 2;
    } catch (UpcieException e) {
      return false;
    }
  }
}
