package dev.upcie.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.PageSize;
import dev.upcie.hugepages.RealHugepages;
import dev.upcie.support.UpcieException;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hugepage regions on this machine's real hugepages (root). */
public class HugepageRegionTest {
  private static final PageSize TWO_MB = PageSize.parse("2M");
  private static RealHugepages real;

  @BeforeAll
  static void reserve() {
    real = RealHugepages.require().ensureAvailable(TWO_MB, 16);
  }

  @AfterAll
  static void restore() {
    if (real != null) {
      real.close();
    }
  }

  @Test
  void allocatesLockedZeroedMemoryOfWholeHugepages() {
    try (HugepageRegion region = HugepageRegion.allocate(8 << 20, TWO_MB)) {
      assertThat(region.size()).isEqualTo(8 << 20);
      assertThat(region.pageSize()).isEqualTo(TWO_MB);
      assertThat(region.segment().address() % TWO_MB.bytes()).as("hugepage aligned").isZero();
      assertThat(region.segment().mismatch(MemorySegment.ofArray(new byte[8 << 20])))
          .as("zeroed")
          .isEqualTo(-1);
      region.segment().set(ValueLayout.JAVA_LONG, (6 << 20) + 8, 0xfeedfaceL);
      assertThat(region.segment().get(ValueLayout.JAVA_LONG, (6 << 20) + 8)).isEqualTo(0xfeedfaceL);
      assertThat(region.exportPath().toString())
          .matches("/proc/" + ProcessHandle.current().pid() + "/fd/\\d+");
      assertThat(Files.exists(region.exportPath())).isTrue();
    }
  }

  @Test
  void physicalAddressesMatchAnIndependentReadOfPagemap() throws IOException {
    try (HugepageRegion region = HugepageRegion.allocate(8 << 20, TWO_MB);
        FileChannel pagemap =
            FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
      PhysicalTranslation phys = region.physicalTranslation();

      assertThat(phys.pageCount()).isEqualTo(4);
      for (long offset = 0; offset < region.size(); offset += 512 << 10) {
        long expected = frame(pagemap, region.segment().address() + offset) * 4096;
        assertThat(phys.translate(offset).value())
            .as("physical address at offset 0x%x", offset)
            .isEqualTo(expected);
      }
      for (int page = 0; page < phys.pageCount(); page++) {
        assertThat(phys.page(page).value() % TWO_MB.bytes())
            .as("hugepage %d is 2M aligned", page)
            .isZero();
      }
    }
  }

  @Test
  void aHeapOnRealHugepagesHandsOutPhysicalAddresses() throws IOException {
    try (DmaHeap heap = DmaHeap.physical(4 << 20, TWO_MB);
        FileChannel pagemap =
            FileChannel.open(Path.of("/proc/self/pagemap"), StandardOpenOption.READ)) {
      DmaBuffer buffer = heap.allocate(12288, 4096);

      for (long at = 0; at < buffer.size(); at += 4096) {
        assertThat(buffer.deviceAddress(at).value())
            .isEqualTo(frame(pagemap, buffer.segment().address() + at) * 4096);
      }
      buffer.segment().fill((byte) 0x5a);
      heap.free(buffer);
    }
  }

  @Test
  void anotherProcessImportsTheExportedPagesAndSharesThem() throws Exception {
    try (HugepageRegion region = HugepageRegion.allocate(4 << 20, TWO_MB)) {
      region.segment().set(ValueLayout.JAVA_LONG, 0, 0x0123456789abcdefL);

      ChildJvm.Result child =
          ChildJvm.run(false, RegionProbe.class, "import", region.exportPath().toString());

      assertThat(child.exit()).as(child.out()).isZero();
      assertThat(child.out()).contains("marker 123456789abcdef size 4194304 page 2M");
      assertThat(region.segment().get(ValueLayout.JAVA_LONG, 8))
          .as("the other process wrote into the same memory")
          .isEqualTo(~0x0123456789abcdefL);
    }
  }

  @Test
  void anImportInThisProcessSeesTheSamePhysicalPages() {
    try (HugepageRegion region = HugepageRegion.allocate(2 << 20, TWO_MB);
        HugepageRegion alias = HugepageRegion.importFrom(region.exportPath())) {
      alias.segment().set(ValueLayout.JAVA_INT, 64, 77);

      assertThat(region.segment().get(ValueLayout.JAVA_INT, 64)).isEqualTo(77);
      assertThat(alias.physicalTranslation().page(0))
          .isEqualTo(region.physicalTranslation().page(0));
    }
  }

  @Test
  void aProcessWithoutCapSysAdminIsToldInsteadOfGivenFrameZero() throws Exception {
    ChildJvm.Result child = ChildJvm.run(true, RegionProbe.class, "physical");

    assertThat(child.exit()).as(child.out()).isEqualTo(3);
    assertThat(child.out())
        .contains("refused: /proc/self/pagemap hides physical addresses from this process")
        .contains("needs CAP_SYS_ADMIN");
  }

  @Test
  void anOrdinaryUserAllocatesMoreThanItsLockedMemoryLimit() throws Exception {
    // setpriv keeps root's limits: 8 MiB of locked memory on these machines.
    ChildJvm.Result child = ChildJvm.run(true, RegionProbe.class, "allocate", "" + (16 << 20));

    assertThat(child.exit()).as(child.out()).isZero();
    assertThat(child.out()).contains("allocated 16777216");
  }

  @Test
  void aHugetlbfsFileBacksARegionAndIsRemovedWithIt(@TempDir Path dir) {
    Hugepages hugepages = real.hugepages();
    Path mount = dir.resolve("mnt");
    hugepages.hugetlbfs().mount(mount, TWO_MB);
    try {
      Path file;
      try (HugepageRegion region = HugepageRegion.allocate(4 << 20, TWO_MB, mount)) {
        file = region.exportPath();
        assertThat(file.getParent()).isEqualTo(mount);
        assertThat(Files.exists(file)).isTrue();
        region.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
      }
      assertThat(Files.exists(file)).as("removed on close").isFalse();
      assertThatThrownBy(() -> HugepageRegion.allocate(2 << 20, TWO_MB, dir))
          .isInstanceOf(UpcieException.class)
          .hasMessage(dir + " is not on hugetlbfs; mount one with `upcie hugepages mount`");
    } finally {
      hugepages.hugetlbfs().unmount(mount);
    }
  }

  @Test
  void requestsTheKernelCannotMeetSayWhatIsMissing() {
    long available = real.hugepages().pool(TWO_MB).available();

    assertThatThrownBy(() -> HugepageRegion.allocate(3 << 20, TWO_MB))
        .isInstanceOf(UpcieException.class)
        .hasMessage(
            "a hugepage region is a whole number of pages: 3145728 bytes is not a multiple of 2M");
    assertThatThrownBy(() -> HugepageRegion.allocate((available + 1) * TWO_MB.bytes(), TWO_MB))
        .isInstanceOf(UpcieException.class)
        .hasMessageContaining("ENOMEM")
        .hasMessageContaining("the 2M pool has " + available + " of its ")
        .hasMessageContaining("reserve more with `upcie hugepages reserve`");
  }

  @Test
  void aClosedRegionThrowsAndOneOwnedByAHeapCannotBeClosedUnderIt() {
    HugepageRegion region = HugepageRegion.allocate(2 << 20, TWO_MB);
    DmaHeap heap = DmaHeap.builder().region(DmaRegion.physical(region)).build();
    DmaBuffer buffer = heap.allocate(4096);

    assertThatThrownBy(region::close)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("belongs to a DMA heap");
    assertThat(buffer.segment().get(ValueLayout.JAVA_BYTE, 0)).as("still mapped").isZero();

    heap.close();
    assertThatThrownBy(() -> region.segment().get(ValueLayout.JAVA_BYTE, 0))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> buffer.segment().get(ValueLayout.JAVA_BYTE, 0))
        .isInstanceOf(IllegalStateException.class);
    region.close();
  }

  /** The page frame number of {@code address}, read from pagemap without the code under test. */
  private static long frame(FileChannel pagemap, long address) throws IOException {
    ByteBuffer entry = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder());
    pagemap.read(entry, (address / 4096) * 8);
    long value = entry.getLong(0);
    assertThat(value >>> 63).as("present bit").isEqualTo(1);
    return value & ((1L << 55) - 1);
  }
}
