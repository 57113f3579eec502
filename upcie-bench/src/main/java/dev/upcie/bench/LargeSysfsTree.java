package dev.upcie.bench;

import dev.upcie.sim.sysfs.SimFunction;
import dev.upcie.sim.sysfs.SimSysfs;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the sysfs tree of a simulated machine with many PCI functions to a directory, for timing
 * {@code upcie devbind list --sysfs-root DIR} on a large machine ({@code ci/bench}):
 *
 * <pre>{@code
 * java -cp upcie-bench/target/benchmarks.jar dev.upcie.bench.LargeSysfsTree DIR [COUNT]
 * }</pre>
 *
 * <p>COUNT functions (4096 unless given), eight per device, 32 devices per bus, one root bus per
 * 256: NVMe controllers, Ethernet controllers and virtio devices in turn, so that names come from
 * three vendors' blocks of pci.ids. No driver is bound.
 */
public final class LargeSysfsTree {
  private LargeSysfsTree() {}

  /** Writes the tree; DIR must not exist or be empty. */
  public static void main(String[] args) throws Exception {
    Path target = Path.of(args[0]);
    int count = args.length > 1 ? Integer.parseInt(args[1]) : 4096;
    SimSysfs.Builder machine = SimSysfs.builder();
    for (int i = 0; i < count; i++) {
      String address = String.format("0000:%02x:%02x.%d", i / 256, (i / 8) % 32, i % 8);
      SimFunction.Builder function = SimFunction.builder(address);
      switch (i % 3) {
        case 0 -> function.id(0x1b36, 0x0010).subsystem(0x1af4, 0x1100).classCode(0x010802);
        case 1 -> function.id(0x8086, 0x10d3).subsystem(0x8086, 0x0000).classCode(0x020000);
        default -> function.id(0x1af4, 0x1041).subsystem(0x1af4, 0x1100).classCode(0x020000);
      }
      machine.function(function.bar(0, 16384).build());
    }
    Files.createDirectories(target);
    machine.build().copyTo(target);
    System.out.println("LargeSysfsTree: " + count + " functions in " + target);
  }
}
