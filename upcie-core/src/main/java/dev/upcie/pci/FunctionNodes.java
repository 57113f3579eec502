package dev.upcie.pci;

import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The device nodes and interfaces of a PCI function, named from sysfs alone as udev names them:
 * what a user opens to reach it, and what a binder must find unused before it moves the function.
 *
 * <pre>{@code
 * for (FunctionNode node : FunctionNodes.of(sysfs, function)) {
 *   System.out.println(node.kind() + " " + node.name()); // BLOCK /dev/nvme0n1
 * }
 * }</pre>
 */
public final class FunctionNodes {
  /**
   * A namespace's path device under native NVMe multipath, {@code
   * nvme<subsystem>c<controller>n<ns>}: hidden, with no node; its disk is the subsystem's head,
   * {@code nvme<subsystem>n<ns>}.
   */
  private static final Pattern NVME_PATH = Pattern.compile("nvme(\\d+)c\\d+n(\\d+)");

  private FunctionNodes() {}

  /**
   * What the kernel made for {@code function}, in this order: NVMe controllers and their disks,
   * other disks, UIO devices, the VFIO group and device nodes, network interfaces. A function that
   * vanishes meanwhile has fewer, never an error.
   */
  public static List<FunctionNode> of(Sysfs sysfs, PciFunction function) {
    String dir = PciBus.dir(function.address());
    List<FunctionNode> nodes = new ArrayList<>();
    for (String controller : list(sysfs, dir + "/nvme")) {
      nodes.add(new FunctionNode("/dev/" + controller, FunctionNode.Kind.NVME_CONTROLLER));
      for (String disk : nvmeDisks(sysfs, dir + "/nvme/" + controller, controller)) {
        nodes.add(block(disk));
      }
    }
    for (String disk : classMembers(sysfs, "class/block", function.address())) {
      if (!isPartition(sysfs, disk) && !nodes.contains(block(disk))) {
        nodes.add(block(disk));
      }
    }
    for (String uio : list(sysfs, dir + "/uio")) {
      nodes.add(new FunctionNode("/dev/" + uio, FunctionNode.Kind.UIO));
    }
    if (function.driver().filter(FunctionNodes::isVfio).isPresent()
        && function.iommuGroup().isPresent()) {
      int group = function.iommuGroup().getAsInt();
      boolean noIommu =
          read(sysfs, "kernel/iommu_groups/" + group + "/name").equals("vfio-noiommu");
      nodes.add(
          new FunctionNode(
              "/dev/vfio/" + (noIommu ? "noiommu-" : "") + group, FunctionNode.Kind.VFIO_GROUP));
    }
    for (String device : list(sysfs, dir + "/vfio-dev")) {
      // Linux 6.1 to 6.5 show vfio-dev/vfioN without a character device: only one with a dev
      // number (the cdev interface, 6.6 on) has a node.
      if (sysfs.exists(dir + "/vfio-dev/" + device + "/dev")) {
        nodes.add(new FunctionNode("/dev/vfio/devices/" + device, FunctionNode.Kind.VFIO_DEVICE));
      }
    }
    for (String netdev : classMembers(sysfs, "class/net", function.address())) {
      nodes.add(new FunctionNode(netdev, FunctionNode.Kind.NETWORK_INTERFACE));
    }
    return nodes;
  }

  /**
   * The whole disks below the function at {@code address}, by their names in {@code /dev} and
   * {@code class/block}: {@code nvme0n1}, {@code sda}.
   */
  static List<String> disks(Sysfs sysfs, PciAddress address) {
    String dir = PciBus.dir(address);
    List<String> disks = new ArrayList<>();
    for (String controller : list(sysfs, dir + "/nvme")) {
      disks.addAll(nvmeDisks(sysfs, dir + "/nvme/" + controller, controller));
    }
    for (String disk : classMembers(sysfs, "class/block", address)) {
      if (!isPartition(sysfs, disk) && !disks.contains(diskOf(disk))) {
        disks.add(diskOf(disk));
      }
    }
    return disks;
  }

  /**
   * The entries of a class directory ({@code class/block}, {@code class/net}) whose device lies
   * below the function: a virtio disk is {@code <fn>/virtio1/block/vda}, a SATA one is deeper
   * still, an NVMe one {@code <fn>/nvme/nvme0/nvme0n1}.
   */
  private static List<String> classMembers(Sysfs sysfs, String classDir, PciAddress address) {
    String below = "/" + address + "/";
    List<String> members = new ArrayList<>();
    for (String name : list(sysfs, classDir)) {
      try {
        sysfs
            .readLink(classDir + "/" + name)
            .filter(target -> target.contains(below))
            .ifPresent(target -> members.add(name));
      } catch (UpcieException e) {
        // gone meanwhile
      }
    }
    return members;
  }

  private static boolean isPartition(Sysfs sysfs, String disk) {
    try {
      return sysfs.exists("class/block/" + disk + "/partition");
    } catch (UpcieException e) {
      return false;
    }
  }

  private static FunctionNode block(String disk) {
    return new FunctionNode("/dev/" + diskOf(disk), FunctionNode.Kind.BLOCK);
  }

  /** The disk {@code /dev} has for {@code name}: itself, or its multipath head. */
  static String diskOf(String name) {
    Matcher m = NVME_PATH.matcher(name);
    return m.matches() ? "nvme" + m.group(1) + "n" + m.group(2) : name;
  }

  /**
   * Whether {@code driver} hands the device to user space rather than driving it itself: a VFIO
   * driver, {@code uio_pci_generic}, {@code igb_uio}, or {@code pci-stub} (which parks it).
   */
  public static boolean isUserSpace(String driver) {
    return isVfio(driver)
        || driver.equals("uio_pci_generic")
        || driver.equals("igb_uio")
        || driver.equals("pci-stub");
  }

  /**
   * Whether {@code driver} is vfio-pci or a vendor's variant of it ({@code mlx5_vfio_pci}, ...): a
   * function bound to one has a VFIO group node.
   */
  public static boolean isVfio(String driver) {
    return driver.equals("vfio-pci") || driver.endsWith("_vfio_pci");
  }

  private static List<String> nvmeDisks(Sysfs sysfs, String controllerDir, String controller) {
    List<String> disks = new ArrayList<>();
    for (String entry : list(sysfs, controllerDir)) {
      // nvme0n1 without multipath, nvme0c0n1 (a path to the head nvme0n1) with it.
      if (entry.matches(controller + "n\\d+") || NVME_PATH.matcher(entry).matches()) {
        String disk = diskOf(entry);
        if (!disks.contains(disk)) {
          disks.add(disk);
        }
      }
    }
    return disks;
  }

  private static List<String> list(Sysfs sysfs, String directory) {
    try {
      return sysfs.exists(directory) ? sysfs.list(directory) : List.of();
    } catch (UpcieException e) {
      return List.of(); // gone meanwhile
    }
  }

  private static String read(Sysfs sysfs, String path) {
    try {
      return sysfs.exists(path) ? sysfs.readAttribute(path) : "";
    } catch (UpcieException e) {
      return "";
    }
  }
}
