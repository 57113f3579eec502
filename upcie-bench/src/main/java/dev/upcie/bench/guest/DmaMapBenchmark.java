package dev.upcie.bench.guest;

import dev.upcie.dma.DmaMapping;
import dev.upcie.dma.DmaSpace;
import dev.upcie.hugepages.PageSize;
import dev.upcie.memory.HugepageRegion;
import dev.upcie.pci.PciDeviceHandle;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Making 2 MiB of hugepage memory reachable by a device and taking it back, in the QEMU guest:
 * through VFIO an IOVA allocation, {@code VFIO_IOMMU_MAP_DMA} (the kernel pins the pages and
 * programs the emulated IOMMU) and {@code VFIO_IOMMU_UNMAP_DMA}; through UIO the physical-address
 * check against the mask (the pagemap lookup happens once per region).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class DmaMapBenchmark {
  private static final PageSize TWO_MB = PageSize.parse("2M");

  private PciDeviceHandle edu;
  private DmaSpace dma;
  private HugepageRegion region;

  /** Opens edu and allocates the 2 MiB to map. */
  @Setup(Level.Trial)
  public void open() {
    edu = GuestDevice.openEdu();
    dma = edu.dma();
    region = HugepageRegion.allocate(TWO_MB.bytes(), TWO_MB);
  }

  /** Frees the memory and closes the device. */
  @TearDown(Level.Trial)
  public void close() {
    region.close();
    edu.close();
  }

  /** Map, then unmap. */
  @Benchmark
  public long mapAndUnmap() {
    try (DmaMapping mapping = dma.map(region)) {
      return mapping.translation().translateValue(0);
    }
  }
}
