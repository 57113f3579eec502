package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.dma.DmaException;
import dev.upcie.dma.DmaSpace;
import dev.upcie.hugepages.PageSize;
import dev.upcie.junit.PciDevice;
import dev.upcie.memory.DmaHeap;
import dev.upcie.memory.HugepageRegion;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.edu.EduRegisters;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Without an IOMMU a device reaches physical addresses, and {@code edu} only those below 256 MiB:
 * the UIO guest has a NUMA node 0 covering the first 256 MiB and node 1 above it, each with
 * hugepages reserved at boot. Memory from node 0 is handed out; memory from node 1 is refused,
 * saying why, before the device could be pointed at it.
 *
 * <p>Guest only, and UIO only: with an IOMMU every address is an IOVA below the mask.
 */
@Tag(GuestRun.GUEST_ONLY)
public class UioDmaMaskTest {
  private static final PageSize TWO_MB = PageSize.parse("2M");

  @Test
  void memoryBelowTheMaskIsHandedOutAndMemoryAboveItRefused(
      @PciDevice(id = EduRegisters.ID_STRING) PciDeviceHandle edu) {
    DmaSpace dma = edu.dma().withMask(EduRegisters.DMA_MASK_BITS);
    assertThat(dma.translated()).as("physical addresses").isFalse();

    try (DmaHeap low = dma.heap(HugepageRegion.allocate(TWO_MB.bytes(), TWO_MB, 0))) {
      assertThat(low.allocate(4096).deviceAddress().value()).isLessThan(1L << 28);
    }
    HugepageRegion high = HugepageRegion.allocate(TWO_MB.bytes(), TWO_MB, 1);
    assertThat(high.physicalTranslation().page(0).value())
        .as("node 1 lies above 256 MiB")
        .isGreaterThanOrEqualTo(1L << 28);
    assertThatThrownBy(() -> dma.heap(high))
        .isInstanceOf(DmaException.class)
        .hasMessageContaining("lies above the 28-bit DMA mask of 0000:00:06.0 1234:11e8")
        .hasMessageContaining("take hugepages from a NUMA node whose memory lies below it");
    assertThatThrownBy(() -> high.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, 0))
        .as(
            "the refused region was closed, as a heap that cannot be built closes what it was given")
        .isInstanceOf(IllegalStateException.class);
  }
}
