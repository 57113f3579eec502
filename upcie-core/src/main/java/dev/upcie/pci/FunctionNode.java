package dev.upcie.pci;

/**
 * Something the kernel made for a PCI function that user space opens by name: a device node under
 * {@code /dev}, or a network interface. {@link FunctionNodes#of} finds them in sysfs.
 *
 * @param name the node's path ({@code /dev/nvme0n1}, {@code /dev/vfio/5}) or the interface's name
 *     ({@code eth0})
 * @param kind what it is
 */
public record FunctionNode(String name, Kind kind) {
  /** The kinds of node. */
  public enum Kind {
    /** An NVMe controller's character device, {@code /dev/nvmeN}. */
    NVME_CONTROLLER,
    /** A block device (a whole disk): {@code /dev/nvme0n1}, {@code /dev/sda}. */
    BLOCK,
    /** A VFIO group, {@code /dev/vfio/N} ({@code /dev/vfio/noiommu-N} without an IOMMU). */
    VFIO_GROUP,
    /** A VFIO device's character device (the cdev interface), {@code /dev/vfio/devices/vfioN}. */
    VFIO_DEVICE,
    /** A UIO device, {@code /dev/uioN}. */
    UIO,
    /** A network interface (no node: the name is the interface's). */
    NETWORK_INTERFACE
  }

  @Override
  public String toString() {
    return name;
  }
}
