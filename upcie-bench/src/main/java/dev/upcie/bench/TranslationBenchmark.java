package dev.upcie.bench;

import dev.upcie.hugepages.PageSize;
import dev.upcie.memory.AddressTranslation;
import dev.upcie.memory.Iova;
import dev.upcie.memory.IovaTranslation;
import dev.upcie.memory.PhysicalTranslation;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Offset to device address: a table lookup per hugepage (physical) or an addition (IOVA), as a
 * driver does for every PRP entry. The offsets walk a 1 GiB region in 4 KiB steps.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TranslationBenchmark {
  private static final PageSize PAGE = PageSize.parse("2M");
  private static final long REGION = 1L << 30;

  @Param({"physical", "iova"})
  String kind;

  private AddressTranslation translation;
  private long offset;

  @Setup
  public void table() {
    long[] phys = new long[(int) (REGION / PAGE.bytes())];
    for (int i = 0; i < phys.length; i++) {
      phys[i] = (long) (5000 + 3 * i) << PAGE.shift();
    }
    translation =
        kind.equals("physical")
            ? new PhysicalTranslation(phys, PAGE)
            : new IovaTranslation(new Iova(1L << 40), 1L << 40);
  }

  /** One translation; the value is returned so the JIT cannot drop it. */
  @Benchmark
  public long translate() {
    offset = (offset + 4096) & (REGION - 1);
    return translation.translate(offset).value();
  }

  /**
   * One translation to a primitive, as a PRP list is filled ({@code DmaBuffer.deviceAddressValue}):
   * with {@code -prof gc}, 0 bytes per operation whether or not the JIT removes the typed address
   * above.
   */
  @Benchmark
  public long translateValue() {
    offset = (offset + 4096) & (REGION - 1);
    return translation.translateValue(offset);
  }
}
