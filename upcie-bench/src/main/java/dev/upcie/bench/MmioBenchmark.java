package dev.upcie.bench;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
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
 * One register access through {@link Mmio}: the bounds and alignment checks plus a volatile load or
 * store. {@code mapped} is a shared file mapping through the same {@code mmap} path a VFIO BAR
 * takes (RAM, not device memory, so it measures our overhead, not the PCIe round trip); {@code sim}
 * is the simulated NVMe controller's register file.
 *
 * <p>Run with {@code -prof gc}: every access must show 0 bytes allocated per operation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class MmioBenchmark {
  @Param({"mapped", "sim"})
  String window;

  private Arena arena;
  private NativeFd fd;
  private Path file;
  private Mmio mmio;
  private int value;

  @Setup(Level.Trial)
  public void map() throws IOException {
    if (window.equals("sim")) {
      mmio = new NvmeModel().bar0();
      return;
    }
    file = Files.createTempFile("upcie-bench", ".bar");
    Files.write(file, new byte[16 * 1024]);
    fd = Syscalls.open(file.toString(), Posix.O_RDWR);
    arena = Arena.ofShared();
    mmio = Mmio.of("benchmark BAR", Syscalls.mmap(fd, 0, 16 * 1024, arena));
  }

  @TearDown(Level.Trial)
  public void unmap() throws IOException {
    if (arena != null) {
      arena.close();
      fd.close();
      Files.delete(file);
    }
  }

  /** A 32-bit status read, as a driver polls CSTS. */
  @Benchmark
  public int getIntVolatile() {
    return mmio.getIntVolatile(NvmeRegisters.CSTS.offset());
  }

  /** A 64-bit capability read. */
  @Benchmark
  public long getLongVolatile() {
    return mmio.getLongVolatile(NvmeRegisters.CAP.offset());
  }

  /** A 32-bit register write, as a driver rings a doorbell or sets CC. */
  @Benchmark
  public void putIntVolatile() {
    mmio.putIntVolatile(NvmeRegisters.CC.offset(), value++);
  }
}
