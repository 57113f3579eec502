package dev.upcie.vfio;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.upcie.sys.Ioctl;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
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
  static final Ioctl DEVICE_GET_IRQ_INFO = io("VFIO_DEVICE_GET_IRQ_INFO", 9);
  static final Ioctl DEVICE_SET_IRQS = io("VFIO_DEVICE_SET_IRQS", 10);
  static final Ioctl DEVICE_RESET = io("VFIO_DEVICE_RESET", 11);
  static final Ioctl IOMMU_GET_INFO = io("VFIO_IOMMU_GET_INFO", 12);
  static final Ioctl IOMMU_MAP_DMA = io("VFIO_IOMMU_MAP_DMA", 13);
  static final Ioctl IOMMU_UNMAP_DMA = io("VFIO_IOMMU_UNMAP_DMA", 14);

  static final int API_VERSION = 0;
  static final int TYPE1_IOMMU = 1;
  static final int TYPE1V2_IOMMU = 3;
  static final int GROUP_FLAGS_VIABLE = 1;
  static final int DEVICE_FLAGS_RESET = 1;
  static final int DEVICE_FLAGS_PCI = 1 << 1;
  static final int REGION_INFO_FLAG_READ = 1;
  static final int REGION_INFO_FLAG_WRITE = 1 << 1;
  static final int REGION_INFO_FLAG_MMAP = 1 << 2;
  static final int PCI_BAR0_REGION_INDEX = 0;
  static final int PCI_BAR5_REGION_INDEX = 5;
  static final int PCI_CONFIG_REGION_INDEX = 7;
  static final int PCI_INTX_IRQ_INDEX = 0;
  static final int PCI_MSI_IRQ_INDEX = 1;
  static final int PCI_MSIX_IRQ_INDEX = 2;
  static final int IRQ_INFO_EVENTFD = 1;
  static final int IRQ_INFO_MASKABLE = 1 << 1;
  static final int IRQ_INFO_AUTOMASKED = 1 << 2;
  static final int IRQ_SET_DATA_NONE = 1;
  static final int IRQ_SET_DATA_EVENTFD = 1 << 2;
  static final int IRQ_SET_ACTION_UNMASK = 1 << 4;
  static final int IRQ_SET_ACTION_TRIGGER = 1 << 5;
  static final int IOMMU_INFO_CAPS = 1 << 1;
  static final int IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
  static final int DMA_MAP_FLAG_READ = 1;
  static final int DMA_MAP_FLAG_WRITE = 1 << 1;

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

  /** {@code struct vfio_irq_info}. */
  static final StructLayout IRQ_INFO =
      MemoryLayout.structLayout(
              JAVA_INT.withName("argsz"),
              JAVA_INT.withName("flags"),
              JAVA_INT.withName("index"),
              JAVA_INT.withName("count"))
          .withName("vfio_irq_info");

  static final VarHandle IRQ_INFO_ARGSZ = IRQ_INFO.varHandle(groupElement("argsz"));
  static final VarHandle IRQ_INFO_FLAGS = IRQ_INFO.varHandle(groupElement("flags"));
  static final VarHandle IRQ_INFO_INDEX = IRQ_INFO.varHandle(groupElement("index"));
  static final VarHandle IRQ_INFO_COUNT = IRQ_INFO.varHandle(groupElement("count"));

  /** {@code struct vfio_irq_set} without its flexible {@code data} array, which follows it. */
  static final StructLayout IRQ_SET =
      MemoryLayout.structLayout(
              JAVA_INT.withName("argsz"),
              JAVA_INT.withName("flags"),
              JAVA_INT.withName("index"),
              JAVA_INT.withName("start"),
              JAVA_INT.withName("count"))
          .withName("vfio_irq_set");

  static final VarHandle IRQ_SET_ARGSZ = IRQ_SET.varHandle(groupElement("argsz"));
  static final VarHandle IRQ_SET_FLAGS = IRQ_SET.varHandle(groupElement("flags"));
  static final VarHandle IRQ_SET_INDEX = IRQ_SET.varHandle(groupElement("index"));
  static final VarHandle IRQ_SET_START = IRQ_SET.varHandle(groupElement("start"));
  static final VarHandle IRQ_SET_COUNT = IRQ_SET.varHandle(groupElement("count"));

  /**
   * {@code struct vfio_iommu_type1_info}: capabilities follow it in the same buffer when the
   * caller's {@code argsz} leaves room ({@code cap_offset} then points at the first).
   */
  static final StructLayout IOMMU_INFO =
      MemoryLayout.structLayout(
              JAVA_INT.withName("argsz"),
              JAVA_INT.withName("flags"),
              JAVA_LONG.withName("iova_pgsizes"),
              JAVA_INT.withName("cap_offset"),
              // Tail padding; newer headers name it "pad".
              MemoryLayout.paddingLayout(4))
          .withName("vfio_iommu_type1_info");

  static final VarHandle IOMMU_INFO_ARGSZ = IOMMU_INFO.varHandle(groupElement("argsz"));
  static final VarHandle IOMMU_INFO_FLAGS = IOMMU_INFO.varHandle(groupElement("flags"));
  static final VarHandle IOMMU_INFO_PGSIZES = IOMMU_INFO.varHandle(groupElement("iova_pgsizes"));
  static final VarHandle IOMMU_INFO_CAP_OFFSET = IOMMU_INFO.varHandle(groupElement("cap_offset"));

  /** {@code struct vfio_info_cap_header}: id, version, offset of the next (0 for none). */
  static final StructLayout INFO_CAP_HEADER =
      MemoryLayout.structLayout(
              ValueLayout.JAVA_SHORT.withName("id"),
              ValueLayout.JAVA_SHORT.withName("version"),
              JAVA_INT.withName("next"))
          .withName("vfio_info_cap_header");

  /** {@code struct vfio_iova_range}: one aperture, start and end inclusive. */
  static final StructLayout IOVA_RANGE =
      MemoryLayout.structLayout(JAVA_LONG.withName("start"), JAVA_LONG.withName("end"))
          .withName("vfio_iova_range");

  /**
   * {@code struct vfio_iommu_type1_info_cap_iova_range} without its flexible array of {@link
   * #IOVA_RANGE}s, which follows it.
   */
  static final StructLayout CAP_IOVA_RANGE =
      MemoryLayout.structLayout(
              INFO_CAP_HEADER.withName("header"),
              JAVA_INT.withName("nr_iovas"),
              JAVA_INT.withName("reserved"))
          .withName("vfio_iommu_type1_info_cap_iova_range");

  /** {@code struct vfio_iommu_type1_dma_map}. */
  static final StructLayout DMA_MAP =
      MemoryLayout.structLayout(
              JAVA_INT.withName("argsz"),
              JAVA_INT.withName("flags"),
              JAVA_LONG.withName("vaddr"),
              JAVA_LONG.withName("iova"),
              JAVA_LONG.withName("size"))
          .withName("vfio_iommu_type1_dma_map");

  static final VarHandle DMA_MAP_ARGSZ = DMA_MAP.varHandle(groupElement("argsz"));
  static final VarHandle DMA_MAP_FLAGS = DMA_MAP.varHandle(groupElement("flags"));
  static final VarHandle DMA_MAP_VADDR = DMA_MAP.varHandle(groupElement("vaddr"));
  static final VarHandle DMA_MAP_IOVA = DMA_MAP.varHandle(groupElement("iova"));
  static final VarHandle DMA_MAP_SIZE = DMA_MAP.varHandle(groupElement("size"));

  /** {@code struct vfio_iommu_type1_dma_unmap} without its flexible {@code data} array. */
  static final StructLayout DMA_UNMAP =
      MemoryLayout.structLayout(
              JAVA_INT.withName("argsz"),
              JAVA_INT.withName("flags"),
              JAVA_LONG.withName("iova"),
              JAVA_LONG.withName("size"))
          .withName("vfio_iommu_type1_dma_unmap");

  static final VarHandle DMA_UNMAP_ARGSZ = DMA_UNMAP.varHandle(groupElement("argsz"));
  static final VarHandle DMA_UNMAP_IOVA = DMA_UNMAP.varHandle(groupElement("iova"));
  static final VarHandle DMA_UNMAP_SIZE = DMA_UNMAP.varHandle(groupElement("size"));

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
          DEVICE_GET_REGION_INFO,
          DEVICE_GET_IRQ_INFO,
          DEVICE_SET_IRQS,
          DEVICE_RESET,
          IOMMU_GET_INFO,
          IOMMU_MAP_DMA,
          IOMMU_UNMAP_DMA);

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
          Map.entry("VFIO_PCI_CONFIG_REGION_INDEX", (long) PCI_CONFIG_REGION_INDEX),
          Map.entry("VFIO_DEVICE_FLAGS_RESET", (long) DEVICE_FLAGS_RESET),
          Map.entry("VFIO_PCI_INTX_IRQ_INDEX", (long) PCI_INTX_IRQ_INDEX),
          Map.entry("VFIO_PCI_MSI_IRQ_INDEX", (long) PCI_MSI_IRQ_INDEX),
          Map.entry("VFIO_PCI_MSIX_IRQ_INDEX", (long) PCI_MSIX_IRQ_INDEX),
          Map.entry("VFIO_IRQ_INFO_EVENTFD", (long) IRQ_INFO_EVENTFD),
          Map.entry("VFIO_IRQ_INFO_MASKABLE", (long) IRQ_INFO_MASKABLE),
          Map.entry("VFIO_IRQ_INFO_AUTOMASKED", (long) IRQ_INFO_AUTOMASKED),
          Map.entry("VFIO_IRQ_SET_DATA_NONE", (long) IRQ_SET_DATA_NONE),
          Map.entry("VFIO_IRQ_SET_DATA_EVENTFD", (long) IRQ_SET_DATA_EVENTFD),
          Map.entry("VFIO_IRQ_SET_ACTION_UNMASK", (long) IRQ_SET_ACTION_UNMASK),
          Map.entry("VFIO_IRQ_SET_ACTION_TRIGGER", (long) IRQ_SET_ACTION_TRIGGER),
          Map.entry("VFIO_IOMMU_INFO_CAPS", (long) IOMMU_INFO_CAPS),
          Map.entry("VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE", (long) IOMMU_TYPE1_INFO_CAP_IOVA_RANGE),
          Map.entry("VFIO_DMA_MAP_FLAG_READ", (long) DMA_MAP_FLAG_READ),
          Map.entry("VFIO_DMA_MAP_FLAG_WRITE", (long) DMA_MAP_FLAG_WRITE));

  /** Every structure above, named as in C, for the header check. */
  static final List<StructLayout> STRUCTS =
      List.of(
          GROUP_STATUS,
          DEVICE_INFO,
          REGION_INFO,
          IRQ_INFO,
          IRQ_SET,
          IOMMU_INFO,
          INFO_CAP_HEADER,
          IOVA_RANGE,
          CAP_IOVA_RANGE,
          DMA_MAP,
          DMA_UNMAP);

  private VfioAbi() {}

  private static Ioctl io(String name, int nr) {
    // _IO(type, nr): direction none, size 0.
    return new Ioctl(name, (VFIO_TYPE << 8) | (VFIO_BASE + nr));
  }
}
