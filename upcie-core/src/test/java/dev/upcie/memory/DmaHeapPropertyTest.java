package dev.upcie.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.hugepages.PageSize;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Random workloads against the heap's invariants, checked after every step: live buffers never
 * overlap, alignment holds in CPU and device address space, array elements never cross a hugepage,
 * the free count adds up, and freeing everything gives all memory back in one piece. Each seed is a
 * reproducible workload; a failure names it.
 */
class DmaHeapPropertyTest {
  private static final PageSize PAGE = PageSize.parse("2M");
  private static final int PAGES = 6; // not a power of two: the region is covered by 8 + 4 MiB
  private static final int STEPS = 3000;

  record Live(DmaBuffer buffer, long alignment, long element) {}

  @ParameterizedTest(name = "seed {0}")
  @ValueSource(longs = {1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233, 377, 610, 987, 1597})
  void invariantsHoldUnderRandomAllocationAndFree(long seed) {
    Random random = new Random(seed);
    long[] phys = new long[PAGES];
    for (int i = 0; i < PAGES; i++) {
      phys[i] = (long) (random.nextInt(1 << 16) + 1) << PAGE.shift();
    }
    long granule = 1L << (6 + random.nextInt(7)); // 64 B to 4 KiB
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment memory = arena.allocate(PAGES * PAGE.bytes(), PAGE.bytes());
      DmaHeap heap =
          DmaHeap.builder()
              .granule(granule)
              .region(DmaRegion.of(memory, PAGE, new PhysicalTranslation(phys, PAGE)))
              .build();
      List<Live> live = new ArrayList<>();
      for (int step = 0; step < STEPS; step++) {
        String where = "seed " + seed + ", step " + step;
        if (!live.isEmpty() && random.nextInt(100) < 45) {
          Live victim = live.remove(random.nextInt(live.size()));
          heap.free(victim.buffer());
        } else {
          allocateSomething(heap, random, live);
        }
        check(heap, memory, live, where);
      }
      for (Live l : live) {
        heap.free(l.buffer());
      }
      DmaHeapStats end = heap.stats();
      assertThat(end.free()).as("seed %d: all memory back", seed).isEqualTo(end.capacity());
      assertThat(end.largestFree())
          .as("seed %d: merged back into the top block", seed)
          .isEqualTo(8 << 20);
      assertThat(end.buffers()).isZero();
      heap.close();
    }
  }

  private static void allocateSomething(DmaHeap heap, Random random, List<Live> live) {
    try {
      if (random.nextInt(4) == 0) {
        long element = 1L << (4 + random.nextInt(9)); // 16 B to 4 KiB: divides the page
        long count = 1 + random.nextInt(random.nextBoolean() ? 64 : 4096);
        DmaBuffer array = heap.allocateArray(count, element);
        // Elements never move, so checking them once, here, is enough.
        for (long at = 0; at < array.size(); at += element) {
          assertThat(array.contiguousLength(at))
              .as("element at %d of %s straddles a hugepage", at, array)
              .isGreaterThanOrEqualTo(element);
        }
        live.add(new Live(array, heap.granule(), element));
      } else {
        long size = 1 + (long) Math.pow(2, random.nextDouble() * 22); // 1 B to 4 MiB, skewed small
        long alignment = 1L << random.nextInt(17); // 1 B to 64 KiB
        live.add(new Live(heap.allocate(size, alignment), alignment, 0));
      }
    } catch (DmaHeapException e) {
      // Exhaustion is an allowed outcome; the invariants must still hold.
      assertThat(e).hasMessageStartingWith("cannot allocate");
    }
  }

  private static void check(DmaHeap heap, MemorySegment memory, List<Live> live, String where) {
    List<Live> sorted = new ArrayList<>(live);
    sorted.sort(Comparator.comparingLong(l -> l.buffer().segment().address()));
    long used = 0;
    for (int i = 0; i < sorted.size(); i++) {
      DmaBuffer b = sorted.get(i).buffer();
      long start = b.segment().address();
      assertThat(start).as(where).isGreaterThanOrEqualTo(memory.address());
      assertThat(start + b.size())
          .as(where)
          .isLessThanOrEqualTo(memory.address() + memory.byteSize());
      if (i + 1 < sorted.size()) {
        assertThat(start + b.size())
            .as("%s: %s overlaps the next buffer", where, b)
            .isLessThanOrEqualTo(sorted.get(i + 1).buffer().segment().address());
      }
      long alignment = Math.max(sorted.get(i).alignment(), heap.granule());
      assertThat(start % alignment).as("%s: CPU alignment of %s", where, b).isZero();
      assertThat(b.deviceAddress().value() % alignment).as("%s: device alignment", where).isZero();
      used += roundUpPow2(Math.max(b.size(), alignment), heap.granule());
    }
    DmaHeapStats stats = heap.stats();
    assertThat(stats.buffers()).as(where).isEqualTo(live.size());
    assertThat(stats.capacity() - stats.free()).as("%s: bytes in use", where).isEqualTo(used);
  }

  private static long roundUpPow2(long bytes, long granule) {
    long units = (bytes + granule - 1) / granule;
    return Long.highestOneBit(units - 1) << 1 == 0
        ? granule
        : granule * (Long.highestOneBit(units - 1) << 1);
  }
}
