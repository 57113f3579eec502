package dev.upcie.bench;

import dev.upcie.pci.PciAddress;
import dev.upcie.sim.SimMachine;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What a fresh simulated machine costs: QEMU's q35 guest with its NVMe controller and {@code edu}
 * bound to {@code vfio-pci} ({@link SimMachine#qemuQ35Vfio()}), built and closed, as a test that
 * takes a new machine per test method does. {@code real} is that machine's real-time clock, {@code
 * virtual} the same machine in virtual time, as the simulator's own tests build it. The goal is at
 * most 1 ms, so that a machine per test costs nothing a developer notices.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class SimMachineBenchmark {
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");

  @Param({"real", "virtual"})
  String clock;

  /** Builds the machine and closes it; returns something of it so the JIT keeps the work. */
  @Benchmark
  public boolean buildAndClose() {
    try (SimMachine machine =
        clock.equals("real")
            ? SimMachine.qemuQ35Vfio()
            : SimMachine.qemuQ35Builder("vfio-pci", "vfio-pci").virtualTime().build()) {
      return machine.hasModel(EDU);
    }
  }
}
