package dev.upcie.bench;

import dev.upcie.hugepages.PageSize;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.memory.DmaRegion;
import dev.upcie.memory.PhysicalTranslation;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The DMA heap's hot path: one allocate/free pair, on an empty heap and on one fragmented by
 * thousands of live buffers (the O(log n) claim), in both buffer scopes.
 *
 * <p>The heap sits on 64 MiB of ordinary page-aligned memory with a scattered physical table, the
 * same code path hugepages take, so no root is needed. Run with {@code -prof gc}: the bytes per
 * operation are the buffer handle (buffer, arena, segment view) and nothing else.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class DmaHeapBenchmark {
  private static final PageSize PAGE = PageSize.parse("2M");
  private static final int PAGES = 32;

  @Param({"64", "4096", "65536"})
  long size;

  @Param({"empty", "fragmented"})
  String heapState;

  @Param({"CONFINED", "SHARED"})
  DmaBuffer.Scope scope;

  private Arena arena;
  private DmaHeap heap;
  private final List<DmaBuffer> live = new ArrayList<>();

  @Setup(Level.Trial)
  public void heap() {
    arena = Arena.ofShared();
    MemorySegment memory = arena.allocate(PAGES * PAGE.bytes(), PAGE.bytes());
    long[] phys = new long[PAGES];
    for (int i = 0; i < PAGES; i++) {
      phys[i] = (long) (1000 + 7 * i) << PAGE.shift();
    }
    heap =
        DmaHeap.builder()
            .region(DmaRegion.of(memory, PAGE, new PhysicalTranslation(phys, PAGE)))
            .build();
    if (heapState.equals("fragmented")) {
      // Fill most of the heap with mixed sizes, then free every other one: many small holes.
      Random random = new Random(42);
      List<DmaBuffer> all = new ArrayList<>();
      while (heap.stats().free() > heap.stats().capacity() / 4) {
        all.add(heap.allocate(4096L << random.nextInt(4)));
      }
      for (int i = 0; i < all.size(); i += 2) {
        heap.free(all.get(i));
      }
      for (int i = 1; i < all.size(); i += 2) {
        live.add(all.get(i));
      }
    }
  }

  @TearDown(Level.Trial)
  public void close() {
    heap.close();
    arena.close();
  }

  /** Allocate and free one buffer. */
  @Benchmark
  public long allocateAndFree() {
    DmaBuffer buffer = heap.allocate(size, 64, scope);
    long address = buffer.segment().address();
    heap.free(buffer);
    return address;
  }
}
