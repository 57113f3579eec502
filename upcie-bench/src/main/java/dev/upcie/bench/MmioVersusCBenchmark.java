package dev.upcie.bench;

import dev.upcie.mmio.Mmio;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Register access through {@link Mmio} against the same loop in C, on the same mapping, in the same
 * run: {@value #ACCESSES} accesses per measurement, cycling over 16 registers, as a polling driver
 * does. The C loop uses volatile pointers ({@code resources/mmio_loop.c}, built with {@code gcc
 * -O2} here), which on x86 are plain loads and stores; so are {@code Mmio}'s volatile loads and
 * release stores. A volatile store is shown too: it adds the fence Java's volatile store needs.
 *
 * <p>The mapping is a shared file mapping made by {@code mmap}, the path a VFIO BAR takes, in RAM:
 * this measures our overhead, not a PCIe round trip. Goal: at most 1.2 times C.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class MmioVersusCBenchmark {
  /** Register accesses per measured call. */
  public static final int ACCESSES = 4096;

  private static final long BYTES = 16 * 1024;
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private Path dir;
  private NativeFd fd;
  private Arena arena;
  private MemorySegment mapping;
  private Mmio mmio;
  private MethodHandle read32;
  private MethodHandle read64;
  private MethodHandle write32;
  private MethodHandle write64;

  /** Maps the window and builds the C loops. */
  @Setup(Level.Trial)
  public void setUp() throws IOException, InterruptedException {
    dir = Files.createTempDirectory("upcie-bench-c");
    Path source = dir.resolve("mmio_loop.c");
    try (InputStream in = MmioVersusCBenchmark.class.getResourceAsStream("/mmio_loop.c")) {
      Files.copy(in, source);
    }
    Path library = dir.resolve("libmmioloop.so");
    Process gcc =
        new ProcessBuilder(
                "gcc", "-O2", "-shared", "-fPIC", "-o", library.toString(), source.toString())
            .inheritIO()
            .start();
    if (gcc.waitFor() != 0) {
      throw new IllegalStateException("gcc failed to build " + source + " (ci/setup installs gcc)");
    }
    Path file = dir.resolve("bar");
    Files.write(file, new byte[(int) BYTES]);
    fd = Syscalls.open(file.toString(), Posix.O_RDWR);
    arena = Arena.ofShared();
    mapping = Syscalls.mmap(fd, 0, BYTES, arena);
    mmio = Mmio.of("benchmark BAR", mapping);
    SymbolLookup loops = SymbolLookup.libraryLookup(library, arena);
    Linker linker = Linker.nativeLinker();
    FunctionDescriptor reader =
        FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);
    FunctionDescriptor writer =
        FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG);
    read32 = linker.downcallHandle(loops.findOrThrow("upcie_read32"), reader);
    read64 = linker.downcallHandle(loops.findOrThrow("upcie_read64"), reader);
    write32 = linker.downcallHandle(loops.findOrThrow("upcie_write32"), writer);
    write64 = linker.downcallHandle(loops.findOrThrow("upcie_write64"), writer);
  }

  /** Unmaps and removes the files. */
  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    arena.close();
    fd.close();
    try (var files = Files.list(dir)) {
      for (Path f : files.toList()) {
        Files.delete(f);
      }
    }
    Files.delete(dir);
  }

  /** 32-bit loads through {@link Mmio#getIntVolatile}. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public long javaRead32() {
    Mmio window = mmio;
    long sum = 0;
    for (int i = 0; i < ACCESSES; i++) {
      sum += window.getIntVolatile((long) (i & 15) << 2);
    }
    return sum;
  }

  /** 32-bit loads through {@link Mmio#getIntOpaque}: what a C volatile load promises. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public long javaRead32Opaque() {
    Mmio window = mmio;
    long sum = 0;
    for (int i = 0; i < ACCESSES; i++) {
      sum += window.getIntOpaque((long) (i & 15) << 2);
    }
    return sum;
  }

  /**
   * 32-bit volatile loads straight from the {@link MemorySegment}, without {@code Mmio}: the floor
   * the FFM API itself sets (its bounds, liveness and thread checks), to tell our cost from its.
   */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public long segmentRead32() {
    MemorySegment segment = mapping;
    long sum = 0;
    for (int i = 0; i < ACCESSES; i++) {
      sum += (int) INT.getVolatile(segment, (long) (i & 15) << 2);
    }
    return sum;
  }

  /** 32-bit loads in C. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public long cRead32() throws Throwable {
    return (long) read32.invokeExact(mapping, (long) ACCESSES);
  }

  /** 64-bit loads through {@link Mmio#getLongVolatile}. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public long javaRead64() {
    Mmio window = mmio;
    long sum = 0;
    for (int i = 0; i < ACCESSES; i++) {
      sum += window.getLongVolatile((long) (i & 15) << 3);
    }
    return sum;
  }

  /** 64-bit loads in C. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public long cRead64() throws Throwable {
    return (long) read64.invokeExact(mapping, (long) ACCESSES);
  }

  /** 32-bit stores through {@link Mmio#putIntRelease}: a doorbell. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public void javaWrite32() {
    Mmio window = mmio;
    for (int i = 0; i < ACCESSES; i++) {
      window.putIntRelease((long) (i & 15) << 2, i);
    }
  }

  /** 32-bit stores through {@link Mmio#putIntVolatile}: release plus a full fence. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public void javaWrite32Volatile() {
    Mmio window = mmio;
    for (int i = 0; i < ACCESSES; i++) {
      window.putIntVolatile((long) (i & 15) << 2, i);
    }
  }

  /** 32-bit stores through {@link Mmio#putIntOpaque}: what a C volatile store promises. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public void javaWrite32Opaque() {
    Mmio window = mmio;
    for (int i = 0; i < ACCESSES; i++) {
      window.putIntOpaque((long) (i & 15) << 2, i);
    }
  }

  /** 32-bit release stores straight to the {@link MemorySegment}: the FFM floor for a doorbell. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public void segmentWrite32() {
    MemorySegment segment = mapping;
    for (int i = 0; i < ACCESSES; i++) {
      INT.setRelease(segment, (long) (i & 15) << 2, i);
    }
  }

  /** 32-bit stores in C. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public void cWrite32() throws Throwable {
    write32.invokeExact(mapping, (long) ACCESSES);
  }

  /** 64-bit stores through {@link Mmio#putLongRelease}. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public void javaWrite64() {
    Mmio window = mmio;
    for (int i = 0; i < ACCESSES; i++) {
      window.putLongRelease((long) (i & 15) << 3, i);
    }
  }

  /** 64-bit stores in C. */
  @Benchmark
  @OperationsPerInvocation(ACCESSES)
  public void cWrite64() throws Throwable {
    write64.invokeExact(mapping, (long) ACCESSES);
  }
}
