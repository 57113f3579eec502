package dev.upcie.vfio;

import dev.upcie.host.FakeHost;
import dev.upcie.host.ScriptedKernel;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Scripts a {@link ScriptedKernel} to answer as VFIO type1 does for devices bound to vfio-pci: the
 * container and group handshake, device, region and interrupt information, DMA mapping. Each device
 * descriptor is a file holding the device's configuration space at offset 0, so config reads are
 * real reads.
 */
final class VfioScript {
  int deviceFlags = VfioAbi.DEVICE_FLAGS_PCI | VfioAbi.DEVICE_FLAGS_RESET;
  int[] irqCounts = {1, 1, 0};
  long bar0Size = 1 << 20;
  int bar0Flags =
      VfioAbi.REGION_INFO_FLAG_READ
          | VfioAbi.REGION_INFO_FLAG_WRITE
          | VfioAbi.REGION_INFO_FLAG_MMAP;
  List<long[]> apertures = new ArrayList<>();
  final List<long[]> mapped = new ArrayList<>();
  final List<long[]> irqSets = new ArrayList<>();

  /** Answers for every device of {@code host}; {@code config} is each device's config space. */
  void install(FakeHost host, byte[] config, Path dir) {
    Path configFile = dir.resolve("config");
    try {
      Files.write(configFile, config);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    host.kernel()
        .on("VFIO_GET_API_VERSION", (a, v) -> VfioAbi.API_VERSION)
        .on("VFIO_CHECK_EXTENSION", (a, v) -> v == VfioAbi.TYPE1V2_IOMMU ? 1 : 0)
        .on(
            "VFIO_GROUP_GET_STATUS",
            (a, v) -> {
              VfioAbi.GROUP_STATUS_FLAGS.set(a, 0L, VfioAbi.GROUP_FLAGS_VIABLE);
              return 0;
            })
        .on("VFIO_GROUP_SET_CONTAINER", (a, v) -> 0)
        .on("VFIO_SET_IOMMU", (a, v) -> 0)
        .on("VFIO_IOMMU_GET_INFO", this::iommuInfo)
        .on(
            "VFIO_GROUP_GET_DEVICE_FD",
            (a, v) -> ScriptedKernel.descriptorFor(configFile.toString()))
        .on(
            "VFIO_DEVICE_GET_INFO",
            (a, v) -> {
              VfioAbi.DEVICE_INFO_FLAGS.set(a, 0L, deviceFlags);
              VfioAbi.DEVICE_INFO_NUM_REGIONS.set(a, 0L, 9);
              VfioAbi.DEVICE_INFO_NUM_IRQS.set(a, 0L, 5);
              return 0;
            })
        .on("VFIO_DEVICE_GET_REGION_INFO", (a, v) -> regionInfo(a, config.length))
        .on(
            "VFIO_DEVICE_GET_IRQ_INFO",
            (a, v) -> {
              int index = (int) VfioAbi.IRQ_INFO_INDEX.get(a, 0L);
              VfioAbi.IRQ_INFO_COUNT.set(a, 0L, index < irqCounts.length ? irqCounts[index] : 0);
              return 0;
            })
        .on(
            "VFIO_DEVICE_SET_IRQS",
            (a, v) -> {
              irqSets.add(
                  new long[] {
                    (int) VfioAbi.IRQ_SET_FLAGS.get(a, 0L),
                    (int) VfioAbi.IRQ_SET_INDEX.get(a, 0L),
                    (int) VfioAbi.IRQ_SET_COUNT.get(a, 0L)
                  });
              return 0;
            })
        .on("VFIO_DEVICE_RESET", (a, v) -> 0)
        .on(
            "VFIO_IOMMU_MAP_DMA",
            (a, v) -> {
              mapped.add(
                  new long[] {
                    (long) VfioAbi.DMA_MAP_IOVA.get(a, 0L), (long) VfioAbi.DMA_MAP_SIZE.get(a, 0L)
                  });
              return 0;
            })
        .on(
            "VFIO_IOMMU_UNMAP_DMA",
            (a, v) -> {
              long iova = (long) VfioAbi.DMA_UNMAP_IOVA.get(a, 0L);
              mapped.removeIf(m -> m[0] == iova);
              return 0;
            });
  }

  private int regionInfo(MemorySegment info, int configSize) {
    int index = (int) VfioAbi.REGION_INFO_INDEX.get(info, 0L);
    long size = 0;
    int flags = 0;
    if (index == VfioAbi.PCI_BAR0_REGION_INDEX) {
      size = bar0Size;
      flags = bar0Flags;
    } else if (index == VfioAbi.PCI_CONFIG_REGION_INDEX) {
      size = configSize;
      flags = VfioAbi.REGION_INFO_FLAG_READ | VfioAbi.REGION_INFO_FLAG_WRITE;
    }
    VfioAbi.REGION_INFO_FLAGS.set(info, 0L, flags);
    VfioAbi.REGION_INFO_SIZE.set(info, 0L, size);
    VfioAbi.REGION_INFO_OFFSET.set(info, 0L, 0L);
    return 0;
  }

  /** The info structure, with an IOVA-range capability when apertures are scripted. */
  private int iommuInfo(MemorySegment info, long unused) {
    int base = (int) VfioAbi.IOMMU_INFO.byteSize();
    if (apertures.isEmpty()) {
      VfioAbi.IOMMU_INFO_FLAGS.set(info, 0L, 0);
      return 0;
    }
    int capability = (int) VfioAbi.CAP_IOVA_RANGE.byteSize();
    int needed = base + capability + 16 * apertures.size();
    VfioAbi.IOMMU_INFO_FLAGS.set(info, 0L, VfioAbi.IOMMU_INFO_CAPS);
    if ((int) VfioAbi.IOMMU_INFO_ARGSZ.get(info, 0L) < needed) {
      VfioAbi.IOMMU_INFO_ARGSZ.set(info, 0L, needed);
      VfioAbi.IOMMU_INFO_CAP_OFFSET.set(info, 0L, 0);
      return 0;
    }
    MemorySegment whole = info;
    VfioAbi.IOMMU_INFO_CAP_OFFSET.set(whole, 0L, base);
    whole.set(ValueLayout.JAVA_SHORT, base, (short) VfioAbi.IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
    whole.set(ValueLayout.JAVA_SHORT, base + 2, (short) 1);
    whole.set(ValueLayout.JAVA_INT, base + 4, 0);
    whole.set(ValueLayout.JAVA_INT, base + 8, apertures.size());
    for (int i = 0; i < apertures.size(); i++) {
      whole.set(ValueLayout.JAVA_LONG, base + capability + 16L * i, apertures.get(i)[0]);
      whole.set(ValueLayout.JAVA_LONG, base + capability + 16L * i + 8, apertures.get(i)[1]);
    }
    return 0;
  }
}
