package dev.upcie.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.hugepages.PageSize;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The heap on ordinary memory with a made-up physical table: no hugepages or root needed. */
class DmaHeapTest {
  static final PageSize TWO_MB = PageSize.parse("2M");
  // Four 2 MiB pages, physically scattered as hugepages are.
  static final long[] PHYS = {0x7_4000_0000L, 0x1_0020_0000L, 0x1_0040_0000L, 0x3_0000_0000L};

  private final Arena arena = Arena.ofShared();
  private MemorySegment memory;

  @AfterEach
  void unmap() {
    arena.close();
  }

  DmaHeap heap(long granule) {
    memory = arena.allocate(PHYS.length * TWO_MB.bytes(), TWO_MB.bytes());
    return DmaHeap.builder()
        .granule(granule)
        .region(DmaRegion.of(memory, TWO_MB, new PhysicalTranslation(PHYS, TWO_MB)))
        .build();
  }

  @Test
  void buffersAreAlignedUsableAndTranslatedThroughThePageTable() {
    try (DmaHeap heap = heap(4096)) {
      DmaBuffer a = heap.allocate(100);
      DmaBuffer b = heap.allocate(64 << 10, 64 << 10);

      assertThat(a.size()).isEqualTo(100);
      assertThat(a.segment().byteSize()).isEqualTo(100);
      assertThat(a.segment().address() % 4096).isZero();
      assertThat(b.segment().address() % (64 << 10)).isZero();
      assertThat(b.deviceAddress().value() % (64 << 10)).isZero();
      a.segment().set(ValueLayout.JAVA_INT, 0, 0x1234);
      assertThat(a.segment().get(ValueLayout.JAVA_INT, 0)).isEqualTo(0x1234);
      long offsetA = a.segment().address() - memory.address();
      assertThat(a.deviceAddress())
          .isEqualTo(new PhysicalAddress(PHYS[(int) (offsetA >>> 21)] + (offsetA & 0x1fffff)));
      assertThat(b.deviceAddress(4096).value()).isEqualTo(b.deviceAddress().value() + 4096);
    }
  }

  @Test
  void aBufferAcrossHugepagesIsNotContiguousAndTranslatesPerPage() {
    try (DmaHeap heap = heap(4096)) {
      DmaBuffer big = heap.allocate(4 << 20);

      assertThat(big.isContiguous()).isFalse();
      assertThat(big.contiguousLength(0)).isEqualTo(2 << 20);
      assertThat(big.deviceAddress(2 << 20).value() % TWO_MB.bytes()).isZero();
      assertThat(big.deviceAddress(2 << 20))
          .isNotEqualTo(big.deviceAddress().plus(2 << 20))
          .as("pages 0 and 1, or 2 and 3, of the table")
          .isIn(new PhysicalAddress(PHYS[1]), new PhysicalAddress(PHYS[3]));
    }
  }

  @Test
  void arraysKeepEveryElementInsideOneHugepage() {
    try (DmaHeap heap = heap(4096)) {
      DmaBuffer queue = heap.allocateArray(1024, 64);
      DmaBuffer prpLists = heap.allocateArray(1024, 4096);

      for (DmaBuffer array : new DmaBuffer[] {queue, prpLists}) {
        long element = array == queue ? 64 : 4096;
        for (long at = 0; at < array.size(); at += element) {
          assertThat(array.contiguousLength(at)).isGreaterThanOrEqualTo(element);
        }
      }
      assertThatThrownBy(() -> heap.allocateArray(3, 1536 << 10))
          .isInstanceOf(DmaHeapException.class)
          .hasMessageStartingWith(
              "an array of 3 x 1572864 bytes would put elements across 2M hugepage boundaries");
    }
  }

  @Test
  void misuseIsRefusedAndLeavesTheHeapAsItWas() {
    try (DmaHeap heap = heap(4096);
        DmaHeap other = heap(4096)) {
      DmaBuffer buffer = heap.allocate(4096);
      DmaHeapStats before = heap.stats();

      assertThatThrownBy(() -> other.free(buffer))
          .isInstanceOf(DmaHeapException.class)
          .hasMessageStartingWith("foreign buffer");
      assertThatThrownBy(() -> heap.allocate(0))
          .isInstanceOf(DmaHeapException.class)
          .hasMessage("cannot allocate 0 bytes: the size must be positive");
      assertThatThrownBy(() -> heap.allocate(4096, 3000))
          .isInstanceOf(DmaHeapException.class)
          .hasMessage("alignment 3000 is not a power of two");
      assertThatThrownBy(() -> heap.allocate(4096, 4 << 20))
          .isInstanceOf(DmaHeapException.class)
          .hasMessageContaining("only as aligned as their 2 MiB pages");
      assertThat(heap.stats()).isEqualTo(before);

      heap.free(buffer);
      assertThatThrownBy(() -> heap.free(buffer))
          .isInstanceOf(DmaHeapException.class)
          .hasMessageStartingWith("double free of DmaBuffer[4096 bytes");
      assertThatThrownBy(() -> buffer.segment().get(ValueLayout.JAVA_BYTE, 0))
          .as("use after free")
          .isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(buffer::deviceAddress)
          .as("a device address after free")
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("is freed");
      assertThatThrownBy(() -> buffer.deviceAddressValue(0))
          .isInstanceOf(IllegalStateException.class);
      buffer.close();
      assertThat(heap.stats().buffers()).isZero();
    }
  }

  @Test
  void exhaustionSaysWhatWasAskedWhatIsFreeAndTheLargestBlock() {
    try (DmaHeap heap = heap(4096)) {
      heap.allocate(4 << 20);
      heap.allocate(2 << 20);
      heap.allocate(1 << 20);

      assertThatThrownBy(() -> heap.allocate(2 << 20))
          .isInstanceOf(DmaHeapException.class)
          .hasMessage(
              "cannot allocate 2 MiB (aligned to 4 KiB) from 8 MiB of DMA memory: 1 MiB free,"
                  + " largest free block 1 MiB, 3 buffers allocated");
    }
  }

  @Test
  void aConfinedBufferBelongsToItsThreadAndASharedOneToAll() throws Exception {
    try (DmaHeap heap = heap(4096)) {
      DmaBuffer confined = heap.allocate(4096);
      DmaBuffer shared = heap.allocate(4096, 4096, DmaBuffer.Scope.SHARED);

      CompletableFuture<Integer> read =
          CompletableFuture.supplyAsync(() -> shared.segment().get(ValueLayout.JAVA_INT, 0));
      assertThat(read.get()).isZero();
      CompletableFuture<Void> foreignFree = CompletableFuture.runAsync(() -> heap.free(confined));
      assertThatThrownBy(foreignFree::get)
          .isInstanceOf(ExecutionException.class)
          .hasCauseInstanceOf(WrongThreadException.class);
      assertThat(heap.stats().buffers()).as("the refused free changed nothing").isEqualTo(2);
      CompletableFuture.runAsync(() -> heap.free(shared)).get();
      heap.free(confined);
      assertThat(heap.stats().free()).isEqualTo(heap.stats().capacity());
    }
  }

  @Test
  void closingTheHeapFreesWhatIsLeftAndRefusesNewWork() {
    DmaHeap heap = heap(4096);
    DmaBuffer left = heap.allocate(4096);
    heap.close();
    heap.close();

    assertThatThrownBy(() -> left.segment().get(ValueLayout.JAVA_BYTE, 0))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> heap.allocate(4096))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("the DMA heap is closed");
  }

  @Test
  void aSmallGranuleWastesLessOnSmallBuffers() {
    try (DmaHeap heap = heap(64)) {
      for (int i = 0; i < 64; i++) {
        heap.allocate(64);
      }
      assertThat(heap.stats().capacity() - heap.stats().free()).isEqualTo(64 * 64);
    }
  }

  @Test
  void iovaRegionsAreContiguousAndKeepTheBaseAlignment() {
    MemorySegment iovaMemory = arena.allocate(8 << 20, TWO_MB.bytes());
    try (DmaHeap heap =
        DmaHeap.builder()
            .region(
                DmaRegion.of(iovaMemory, TWO_MB, new IovaTranslation(new Iova(1L << 32), 1L << 32)))
            .build()) {
      DmaBuffer big = heap.allocate(6 << 20, 4 << 20);

      assertThat(big.isContiguous()).isTrue();
      assertThat(big.deviceAddress()).isInstanceOf(Iova.class);
      assertThat(big.deviceAddress().value() % (4 << 20)).isZero();
      heap.free(big);
      assertThat(heap.allocateArray(3, 1536 << 10).isContiguous())
          .as("no straddling rule with an IOMMU: everything is contiguous")
          .isTrue();
    }
  }

  @Test
  void aHeapRefusesRegionsThatOverlapOrTablesThatDoNotFit() {
    MemorySegment memory = arena.allocate(4 * TWO_MB.bytes(), TWO_MB.bytes());
    DmaRegion region = DmaRegion.of(memory, TWO_MB, new PhysicalTranslation(PHYS, TWO_MB));

    assertThatThrownBy(() -> DmaHeap.builder().region(region).region(region).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("regions 0 and 1 overlap: the heap would hand out the same memory twice");
    assertThatThrownBy(() ->
            DmaRegion.of(memory, TWO_MB, new PhysicalTranslation(new long[] {PHYS[0]}, TWO_MB)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("the physical table has 1 pages of 2M but the region is 4 pages of 2M");
  }

  @Test
  void closingASharedBufferFromTwoThreadsAtOnceFreesItOnce() throws Exception {
    try (DmaHeap heap = heap(4096)) {
      for (int round = 0; round < 50; round++) {
        DmaBuffer shared = heap.allocate(4096, 4096, DmaBuffer.Scope.SHARED);
        CompletableFuture<Void> a = CompletableFuture.runAsync(shared::close);
        CompletableFuture<Void> b = CompletableFuture.runAsync(shared::close);
        CompletableFuture.allOf(a, b).get();
      }
      assertThat(heap.stats().buffers()).isZero();
    }
  }

  @Test
  void threadsAllocatingAndFreingAtOnceNeverShareMemory() throws Exception {
    try (DmaHeap heap = heap(512)) {
      ConcurrentSkipListMap<Long, Long> live = new ConcurrentSkipListMap<>();
      List<CompletableFuture<Void>> workers = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = t;
        workers.add(CompletableFuture.runAsync(() -> churn(heap, live, new Random(seed))));
      }
      CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get();

      assertThat(live).isEmpty();
      assertThat(heap.stats().free()).isEqualTo(heap.stats().capacity());
    }
  }

  /** Allocates and frees on this thread, claiming each buffer's range in a shared map. */
  private static void churn(DmaHeap heap, ConcurrentSkipListMap<Long, Long> live, Random random) {
    List<DmaBuffer> mine = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      if (!mine.isEmpty() && random.nextBoolean()) {
        DmaBuffer b = mine.remove(random.nextInt(mine.size()));
        live.remove(b.segment().address());
        heap.free(b);
        continue;
      }
      DmaBuffer b;
      try {
        b = heap.allocate(1 + random.nextInt(64 << 10));
      } catch (DmaHeapException e) {
        continue;
      }
      long start = b.segment().address();
      long end = start + b.size();
      Map.Entry<Long, Long> before = live.floorEntry(end - 1);
      if (before != null && before.getValue() > start) {
        throw new AssertionError(
            b + " overlaps a live buffer at 0x" + Long.toHexString(before.getKey()));
      }
      live.put(start, end);
      mine.add(b);
    }
    for (DmaBuffer b : mine) {
      live.remove(b.segment().address());
      heap.free(b);
    }
  }
}
