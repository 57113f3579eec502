package dev.upcie.vfio;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.upcie.sys.Ioctl;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.util.List;
import java.util.Map;

/**
 * The kernel's VFIO interface from {@code <linux/vfio.h>}, written by hand: ioctl numbers,
 * constants and structure layouts.
 *
 * <p>Member names are the C names, so a test can compile a C program against the system header and
 * check every number, size and offset here ({@link #IOCTLS}, {@link #CONSTANTS}, {@link #STRUCTS}).
 * Add anything new to those lists and the test checks it too.
 *
 * <p>Every VFIO request is {@code _IO(';', 100 + n)}: the size is not encoded in the number; the
 * kernel reads the caller's {@code argsz} instead.
 */
final class VfioAbi {
  private static final int VFIO_TYPE = ';';
  private static final int VFIO_BASE = 100;

  static final Ioctl GET_API_VERSION = io("VFIO_GET_API_VERSION", 0);
  static final Ioctl CHECK_EXTENSION = io("VFIO_CHECK_EXTENSION", 1);
  static final Ioctl SET_IOMMU = io("VFIO_SET_IOMMU", 2);
  static final Ioctl GROUP_GET_STATUS = io("VFIO_GROUP_GET_STATUS", 3);
  static final Ioctl GROUP_SET_CONTAINER = io("VFIO_GROUP_SET_CONTAINER", 4);
  static final Ioctl GROUP_UNSET_CONTAINER = io("VFIO_GROUP_UNSET_CONTAINER", 5);
  static final Ioctl GROUP_GET_DEVICE_FD = io("VFIO_GROUP_GET_DEVICE_FD", 6);
  static final Ioctl DEVICE_GET_INFO = io("VFIO_DEVICE_GET_INFO", 7);
  static final Ioctl DEVICE_GET_REGION_INFO = io("VFIO_DEVICE_GET_REGION_INFO", 8);

  static final int API_VERSION = 0;
  static final int TYPE1_IOMMU = 1;
  static final int TYPE1V2_IOMMU = 3;
  static final int GROUP_FLAGS_VIABLE = 1;
  static final int DEVICE_FLAGS_PCI = 1 << 1;
  static final int REGION_INFO_FLAG_READ = 1;
  static final int REGION_INFO_FLAG_WRITE = 1 << 1;
  static final int REGION_INFO_FLAG_MMAP = 1 << 2;
  static final int PCI_BAR0_REGION_INDEX = 0;
  static final int PCI_BAR5_REGION_INDEX = 5;
  static final int PCI_CONFIG_REGION_INDEX = 7;

  /** {@code struct vfio_group_status}. */
  static final StructLayout GROUP_STATUS =
      MemoryLayout.structLayout(JAVA_INT.withName("argsz"), JAVA_INT.withName("flags"))
          .withName("vfio_group_status");

  static final VarHandle GROUP_STATUS_ARGSZ = GROUP_STATUS.varHandle(groupElement("argsz"));
  static final VarHandle GROUP_STATUS_FLAGS = GROUP_STATUS.varHandle(groupElement("flags"));

  /**
   * {@code struct vfio_device_info} as of Linux 6.1 (20 bytes); newer headers add padding the
   * kernel does not require, since it honours {@code argsz}.
   */
  static final StructLayout DEVICE_INFO =
      MemoryLayout.structLayout(
              JAVA_INT.withName("argsz"),
              JAVA_INT.withName("flags"),
              JAVA_INT.withName("num_regions"),
              JAVA_INT.withName("num_irqs"),
              JAVA_INT.withName("cap_offset"))
          .withName("vfio_device_info");

  static final VarHandle DEVICE_INFO_ARGSZ = DEVICE_INFO.varHandle(groupElement("argsz"));
  static final VarHandle DEVICE_INFO_FLAGS = DEVICE_INFO.varHandle(groupElement("flags"));
  static final VarHandle DEVICE_INFO_NUM_REGIONS =
      DEVICE_INFO.varHandle(groupElement("num_regions"));
  static final VarHandle DEVICE_INFO_NUM_IRQS = DEVICE_INFO.varHandle(groupElement("num_irqs"));

  /** {@code struct vfio_region_info}. */
  static final StructLayout REGION_INFO =
      MemoryLayout.structLayout(
              JAVA_INT.withName("argsz"),
              JAVA_INT.withName("flags"),
              JAVA_INT.withName("index"),
              JAVA_INT.withName("cap_offset"),
              JAVA_LONG.withName("size"),
              JAVA_LONG.withName("offset"))
          .withName("vfio_region_info");

  static final VarHandle REGION_INFO_ARGSZ = REGION_INFO.varHandle(groupElement("argsz"));
  static final VarHandle REGION_INFO_FLAGS = REGION_INFO.varHandle(groupElement("flags"));
  static final VarHandle REGION_INFO_INDEX = REGION_INFO.varHandle(groupElement("index"));
  static final VarHandle REGION_INFO_SIZE = REGION_INFO.varHandle(groupElement("size"));
  static final VarHandle REGION_INFO_OFFSET = REGION_INFO.varHandle(groupElement("offset"));

  /** Every request above, for the header check. */
  static final List<Ioctl> IOCTLS =
      List.of(
          GET_API_VERSION,
          CHECK_EXTENSION,
          SET_IOMMU,
          GROUP_GET_STATUS,
          GROUP_SET_CONTAINER,
          GROUP_UNSET_CONTAINER,
          GROUP_GET_DEVICE_FD,
          DEVICE_GET_INFO,
          DEVICE_GET_REGION_INFO);

  /** Every constant above by its C name, for the header check. */
  static final Map<String, Long> CONSTANTS =
      Map.ofEntries(
          Map.entry("VFIO_API_VERSION", (long) API_VERSION),
          Map.entry("VFIO_TYPE1_IOMMU", (long) TYPE1_IOMMU),
          Map.entry("VFIO_TYPE1v2_IOMMU", (long) TYPE1V2_IOMMU),
          Map.entry("VFIO_GROUP_FLAGS_VIABLE", (long) GROUP_FLAGS_VIABLE),
          Map.entry("VFIO_DEVICE_FLAGS_PCI", (long) DEVICE_FLAGS_PCI),
          Map.entry("VFIO_REGION_INFO_FLAG_READ", (long) REGION_INFO_FLAG_READ),
          Map.entry("VFIO_REGION_INFO_FLAG_WRITE", (long) REGION_INFO_FLAG_WRITE),
          Map.entry("VFIO_REGION_INFO_FLAG_MMAP", (long) REGION_INFO_FLAG_MMAP),
          Map.entry("VFIO_PCI_BAR0_REGION_INDEX", (long) PCI_BAR0_REGION_INDEX),
          Map.entry("VFIO_PCI_BAR5_REGION_INDEX", (long) PCI_BAR5_REGION_INDEX),
          Map.entry("VFIO_PCI_CONFIG_REGION_INDEX", (long) PCI_CONFIG_REGION_INDEX));

  /** Every structure above, named as in C, for the header check. */
  static final List<StructLayout> STRUCTS = List.of(GROUP_STATUS, DEVICE_INFO, REGION_INFO);

  private VfioAbi() {}

  private static Ioctl io(String name, int nr) {
    // _IO(type, nr): direction none, size 0.
    return new Ioctl(name, (VFIO_TYPE << 8) | (VFIO_BASE + nr));
  }
}
