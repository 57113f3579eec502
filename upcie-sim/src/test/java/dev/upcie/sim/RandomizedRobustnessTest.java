package dev.upcie.sim;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.interrupt.Interrupts;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciException;
import dev.upcie.register.Register;
import dev.upcie.sim.edu.EduModel;
import dev.upcie.sim.edu.EduRegisters;
import dev.upcie.sim.iommu.SimIommu;
import dev.upcie.sim.model.DmaDirection;
import dev.upcie.sim.model.DmaFault;
import dev.upcie.sim.model.VirtualTime;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.trace.TraceEvent;
import dev.upcie.support.NotSupportedException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import java.util.function.LongSupplier;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random register accesses, DMA transfers, interrupts, configuration-space accesses and clock moves
 * against the simulated {@code edu} and NVMe controller of one machine in virtual time, each
 * checked against a small reference model of the two devices written here, independently of the
 * simulator's code.
 *
 * <p>What it holds the simulator to: no call throws anything but what its contract names for that
 * call (exact exception classes, listed in {@link Fuzz#expect}); nothing hangs (each seed has a
 * wall-clock budget); every register read, interrupt count, DMA fault (address, size, direction,
 * reason, time), byte of host memory, pending clock work and the model's death agree with the
 * reference model. A transfer that would abort QEMU kills the model (as it should); the run checks
 * the dead device, then goes on with a fresh machine.
 *
 * <p>Seeds: a fixed list, so that a red build always means the code changed, never the dice. {@code
 * -Dupcie.seed=N} reruns one seed (every failure names its seed and its last operations); {@code
 * -Dupcie.seeds=N} explores N fresh seeds from the clock, printed, for a local hunt; {@code
 * -Dupcie.steps=N} changes the length of each run.
 */
class RandomizedRobustnessTest {
  private static final PciAddress EDU = PciAddress.parse("0000:00:06.0");
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");
  private static final long[] SEEDS = {1, 2, 3, 42, 0x5eed, 20261201, 0xdead_beefL, 7_777_777};
  private static final int STEPS = Integer.getInteger("upcie.steps", 1500);
  private static final Duration BUDGET = Duration.ofSeconds(30);

  static LongStream seeds() {
    String one = System.getProperty("upcie.seed");
    if (one != null && !one.isBlank()) {
      return LongStream.of(Long.decode(one.strip()));
    }
    int fresh = Integer.getInteger("upcie.seeds", 0);
    if (fresh > 0) {
      SplittableRandom dice = new SplittableRandom(System.nanoTime());
      long[] seeds = dice.longs(fresh).toArray();
      System.out.println("RandomizedRobustnessTest: fresh seeds " + Arrays.toString(seeds));
      return LongStream.of(seeds);
    }
    return LongStream.of(SEEDS);
  }

  @ParameterizedTest(name = "seed {0}")
  @MethodSource("seeds")
  void randomAccessesGetTheAnswersOfTheDevicesOrTheExceptionsTheContractNames(long seed) {
    Fuzz fuzz = new Fuzz(seed, STEPS);
    assertTimeoutPreemptively(BUDGET, fuzz::run, () -> fuzz.report("no answer within " + BUDGET));
  }

  // ---- the run

  /** One seed's run: random operations, each checked against the reference model. */
  static final class Fuzz {
    private static final int RING = 24;

    private final long seed;
    private final int steps;
    private final SplittableRandom rnd;
    private final ArrayDeque<String> ring = new ArrayDeque<>();
    private int step;
    private World world;
    private int machines;
    // What the run went through, printed at the end and required to be non-trivial.
    private long copied;
    private long faults;
    private final EnumMap<DmaFault.Reason, Long> reasons = new EnumMap<>(DmaFault.Reason.class);
    private long fatals;
    private long interrupts;
    private long refused;

    Fuzz(long seed, int steps) {
      this.seed = seed;
      this.steps = steps;
      this.rnd = new SplittableRandom(seed);
    }

    void run() {
      long started = System.nanoTime();
      try {
        world = newWorld();
        for (step = 0; step < steps; step++) {
          if (world.dead && world.deadFor++ > rnd.nextInt(4, 24)) {
            world.close();
            world = newWorld();
          }
          randomOperation();
          world.checkInvariants();
        }
        require(
            copied > 0 && faults > 0 && fatals > 0 && interrupts > 0 && refused > 0,
            "the run is too tame to mean anything: " + stats());
      } catch (Throwable t) {
        AssertionError failure =
            new AssertionError(
                report(t instanceof AssertionError ? t.getMessage() : t.toString()), t);
        try {
          if (world != null) {
            world.close();
          }
        } catch (RuntimeException e) {
          failure.addSuppressed(e);
        }
        throw failure;
      }
      world.close();
      System.out.printf(
          "seed %d: %s in %d ms%n", seed, stats(), (System.nanoTime() - started) / 1_000_000);
    }

    private String stats() {
      return String.format(
          "%d steps, %d machines, %d transfers copied, %d DMA faults %s, %d fatal transfers,"
              + " %d interrupts delivered, %d calls refused as specified",
          step, machines, copied, faults, reasons, fatals, interrupts, refused);
    }

    synchronized String report(String what) {
      StringBuilder text = new StringBuilder();
      text.append(what)
          .append("\nseed ")
          .append(seed)
          .append(", step ")
          .append(step)
          .append(" of ")
          .append(steps)
          .append(", machine ")
          .append(machines)
          .append("; rerun: -Dtest=RandomizedRobustnessTest -Dupcie.seed=")
          .append(seed)
          .append("\nlast operations, oldest first:\n");
      for (String op : ring) {
        text.append("  ").append(op).append('\n');
      }
      return text.toString();
    }

    private synchronized void op(String format, Object... args) {
      if (ring.size() == RING) {
        ring.removeFirst();
      }
      ring.addLast(step + " m" + machines + ": " + String.format(format, args));
    }

    private World newWorld() {
      machines++;
      op("new machine");
      World w = new World(this);
      // Most drivers turn bus mastering on first; the rest see every DMA refused.
      if (rnd.nextInt(8) != 0) {
        w.eduConfig.enableBusMaster();
        w.eduCfg.setBusMaster(true);
      }
      // Most runs start with memory mapped, as a driver's would be.
      for (int i = rnd.nextInt(1, 4); i > 0; i--) {
        mapHeap(w);
      }
      return w;
    }

    // ---- expected outcomes

    /**
     * Runs {@code action}, which must return normally when {@code expected} is null and otherwise
     * throw exactly {@code expected}. The exceptions the contracts name: {@link
     * IndexOutOfBoundsException} for an access outside a BAR or the configuration space, or an
     * interrupt vector not enabled; {@link IllegalArgumentException} for a misaligned access, a
     * register narrower than 32 bits or a value wider than its register on a BAR, a BAR index
     * outside 0 to 5, or enabling no vectors; {@link PciException} for a BAR the device does not
     * implement; {@link NotSupportedException} for an interrupt mode or count the function does not
     * offer, or a reset it does not have; {@link IllegalStateException} for anything on a closed
     * handle or a dead device (but BAR accesses of a dead device, which read all ones), waiting on
     * interrupts that are not enabled, or opening a dead device.
     */
    long expect(Class<? extends RuntimeException> expected, LongSupplier action) {
      long result;
      try {
        result = action.getAsLong();
      } catch (RuntimeException e) {
        if (expected == null || e.getClass() != expected) {
          throw new AssertionError(
              "threw "
                  + e
                  + " where "
                  + (expected == null ? "no exception" : expected.getSimpleName())
                  + " was expected",
              e);
        }
        refused++;
        return 0;
      }
      if (expected != null) {
        throw new AssertionError(
            "returned 0x"
                + Long.toHexString(result)
                + " where "
                + expected.getSimpleName()
                + " was expected");
      }
      return result;
    }

    void expect(Class<? extends RuntimeException> expected, Runnable action) {
      expect(
          expected,
          () -> {
            action.run();
            return 0;
          });
    }

    static void require(boolean condition, String what) {
      if (!condition) {
        throw new AssertionError(what);
      }
    }

    static void requireEqual(long actual, long expected, String what) {
      if (actual != expected) {
        throw new AssertionError(
            String.format("%s: got 0x%x, the reference model says 0x%x", what, actual, expected));
      }
    }

    // ---- operations

    private static final int[] WEIGHTS = {
      12, // 0 edu register read
      8, // 1 edu register write
      12, // 2 edu DMA transfer
      3, // 3 edu DMA register write
      4, // 4 edu factorial
      2, // 5 edu status
      3, // 6 edu liveness
      5, // 7 edu raise / ack
      3, // 8 interrupts enable / disable
      6, // 9 interrupts drain / unmask / await
      8, // 10 advance the clock
      4, // 11 advance to the next work
      5, // 12 config read
      3, // 13 config write
      3, // 14 bus mastering on or off
      6, // 15 NVMe register read
      4, // 16 NVMe register write
      1, // 17 NVMe reset, edu reset
      2, // 18 map or unmap a heap
      3, // 19 the driver writes host memory
      2, // 20 bar(index)
      1, // 21 narrow or too-wide register values
      1, // 22 close and reopen a handle
      2, // 23 device side of the register files
    };
    private static final int TOTAL = Arrays.stream(WEIGHTS).sum();

    private void randomOperation() {
      int pick = rnd.nextInt(TOTAL);
      int kind = 0;
      while (pick >= WEIGHTS[kind]) {
        pick -= WEIGHTS[kind++];
      }
      World w = world;
      switch (kind) {
        case 0 -> eduRead(w);
        case 1 -> eduRandomWrite(w);
        case 2 -> eduTransfer(w);
        case 3 -> eduDmaRegisterWrite(w);
        case 4 -> eduFactorial(w);
        case 5 -> eduWrite(w, 0x20, rnd.nextBoolean() ? 0x80 : rnd.nextLong(1L << 32), 4);
        case 6 -> eduLiveness(w);
        case 7 -> eduRaiseOrAck(w);
        case 8 -> interruptsEnable(w);
        case 9 -> interruptsUse(w);
        case 10 -> advance(w);
        case 11 -> advanceToNext(w);
        case 12 -> configRead(w);
        case 13 -> configWrite(w);
        case 14 -> busMaster(w);
        case 15 -> nvmeRead(w);
        case 16 -> nvmeWrite(w);
        case 17 -> reset(w);
        case 18 -> {
          if (w.regions.size() < 6 && (w.regions.isEmpty() || rnd.nextBoolean())) {
            mapHeap(w);
          } else {
            unmapHeap(w);
          }
        }
        case 19 -> driverWritesMemory(w);
        case 20 -> barIndex(w);
        case 21 -> badRegisterValues(w);
        case 22 -> closeAndReopen(w);
        case 23 -> deviceSide(w);
        default -> throw new AssertionError(kind);
      }
    }

    private long randomBarOffset(long size) {
      long[] interesting = {
        0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x1c, 0x20, 0x24, 0x28, 0x30, 0x60, 0x64, 0x80, 0x84,
        0x88, 0x8c, 0x90, 0x94, 0x98, 0x9c, 0xa0
      };
      return switch (rnd.nextInt(10)) {
        case 0, 1, 2, 3, 4 -> interesting[rnd.nextInt(interesting.length)];
        case 5, 6 -> rnd.nextLong(0x200) & ~3L;
        case 7 -> rnd.nextLong(size) & ~3L;
        case 8 ->
            switch (rnd.nextInt(6)) {
              case 0 -> size;
              case 1 -> size - 4;
              case 2 -> size + rnd.nextLong(1, 64);
              case 3 -> -rnd.nextLong(1, 16);
              case 4 -> Long.MAX_VALUE - rnd.nextInt(8);
              default -> Long.MIN_VALUE + rnd.nextInt(8);
            };
        default -> rnd.nextLong(0x100);
      };
    }

    private long randomValue() {
      return switch (rnd.nextInt(6)) {
        case 0 -> 0;
        case 1 -> -1L;
        case 2 -> rnd.nextLong(256);
        case 3 -> 1L << rnd.nextInt(64);
        case 4 -> rnd.nextLong(1L << 32);
        default -> rnd.nextLong();
      };
    }

    // -- edu registers

    private void eduRead(World w) {
      long offset = randomBarOffset(EduRegisters.BAR0_SIZE);
      int width = rnd.nextBoolean() ? 4 : 8;
      int flavour = flavour(offset);
      op("edu read%d 0x%x (flavour %d)", width * 8, offset, flavour);
      Class<? extends RuntimeException> expected = w.eduBarCheck(offset, width);
      long got = expect(expected, () -> read(w.eduBar, offset, width, flavour));
      if (expected == null) {
        requireEqual(got, w.eduRead(offset, width), "edu BAR0 at 0x" + Long.toHexString(offset));
      }
    }

    private void eduRandomWrite(World w) {
      long offset = randomBarOffset(EduRegisters.BAR0_SIZE);
      long value = randomValue();
      eduWrite(w, offset, value);
    }

    private void eduWrite(World w, long offset, long value) {
      eduWrite(w, offset, value, rnd.nextBoolean() ? 4 : 8);
    }

    private void eduWrite(World w, long offset, long value, int width) {
      long v = width == 4 ? value & 0xffff_ffffL : value;
      int flavour = flavour(offset);
      op("edu write%d 0x%x = 0x%x (flavour %d)", width * 8, offset, v, flavour);
      Class<? extends RuntimeException> expected = w.eduBarCheck(offset, width);
      expect(expected, () -> write(w.eduBar, offset, width, v, flavour));
      if (expected == null && !w.dead) {
        w.eduWritten(offset, width, v);
      }
    }

    /**
     * Which method makes the access: volatile, acquire or release, opaque, or through a {@link
     * Register} (which cannot have a negative offset).
     */
    private int flavour(long offset) {
      return rnd.nextInt(offset < 0 ? 3 : 4);
    }

    private static long read(Mmio bar, long offset, int width, int flavour) {
      if (width == 4) {
        return Integer.toUnsignedLong(
            switch (flavour) {
              case 0 -> bar.getIntVolatile(offset);
              case 1 -> bar.getIntAcquire(offset);
              case 2 -> bar.getIntOpaque(offset);
              default -> (int) bar.read(new Register("R", offset, 4));
            });
      }
      return switch (flavour) {
        case 0 -> bar.getLongVolatile(offset);
        case 1 -> bar.getLongAcquire(offset);
        case 2 -> bar.getLongOpaque(offset);
        default -> bar.read(new Register("R", offset, 8));
      };
    }

    private static void write(Mmio bar, long offset, int width, long value, int flavour) {
      if (width == 4) {
        switch (flavour) {
          case 0 -> bar.putIntVolatile(offset, (int) value);
          case 1 -> bar.putIntRelease(offset, (int) value);
          case 2 -> bar.putIntOpaque(offset, (int) value);
          default -> bar.write(new Register("R", offset, 4), value);
        }
      } else {
        switch (flavour) {
          case 0 -> bar.putLongVolatile(offset, value);
          case 1 -> bar.putLongRelease(offset, value);
          case 2 -> bar.putLongOpaque(offset, value);
          default -> bar.write(new Register("R", offset, 8), value);
        }
      }
    }

    private void eduDmaRegisterWrite(World w) {
      Register[] dma = {
        EduRegisters.DMA_SOURCE,
        EduRegisters.DMA_DESTINATION,
        EduRegisters.DMA_COUNT,
        EduRegisters.DMA_COMMAND
      };
      Register register = dma[rnd.nextInt(dma.length)];
      eduWrite(w, register.offset(), randomValue());
    }

    private void eduFactorial(World w) {
      // Mostly small operands, whose results differ; any 32-bit one must answer at once.
      long n = rnd.nextInt(4) == 0 ? rnd.nextLong(1L << 32) : rnd.nextLong(40);
      eduWrite(w, EduRegisters.FACTORIAL.offset(), n, 4);
    }

    private void eduLiveness(World w) {
      long value = rnd.nextLong(1L << 32);
      eduWrite(w, EduRegisters.LIVENESS.offset(), value, 4);
      op("edu read LIVENESS");
      long got = expect(w.eduBarCheck(4, 4), () -> w.eduBar.read(EduRegisters.LIVENESS));
      if (!w.eduClosed) {
        requireEqual(got, w.dead ? 0xffff_ffffL : ~value & 0xffff_ffffL, "LIVENESS");
      }
    }

    private void eduRaiseOrAck(World w) {
      long causes =
          switch (rnd.nextInt(4)) {
            case 0 -> EduRegisters.DMA_INTERRUPT;
            case 1 -> EduRegisters.FACTORIAL_INTERRUPT;
            case 2 -> 0xffff_ffffL;
            default -> rnd.nextLong(1L << 32);
          };
      Register register =
          rnd.nextBoolean() ? EduRegisters.INTERRUPT_RAISE : EduRegisters.INTERRUPT_ACK;
      eduWrite(w, register.offset(), causes, 4);
    }

    // -- edu DMA

    private void eduTransfer(World w) {
      boolean toHost = rnd.nextBoolean();
      boolean irq = rnd.nextInt(3) != 0;
      long window;
      if (rnd.nextInt(30) == 0) {
        long[] bad = {
          EduRegisters.BUFFER - 1,
          EduRegisters.BUFFER + EduRegisters.BUFFER_SIZE,
          EduRegisters.BUFFER + EduRegisters.BUFFER_SIZE - 1,
          0,
          rnd.nextLong()
        };
        window = bad[rnd.nextInt(bad.length)];
      } else {
        window = EduRegisters.BUFFER + rnd.nextLong(EduRegisters.MAX_TRANSFER);
      }
      long room = EduRegisters.BUFFER + EduRegisters.MAX_TRANSFER - window;
      long count;
      if (rnd.nextInt(25) == 0 || room < 1) {
        long[] bad = {0, room + 1, EduRegisters.BUFFER_SIZE, 1L << 20, Long.MAX_VALUE, -1L};
        count = bad[rnd.nextInt(bad.length)];
      } else {
        count =
            switch (rnd.nextInt(10)) {
              case 0, 1, 2, 3, 4 -> rnd.nextLong(1, Math.min(room, 64) + 1);
              case 5, 6, 7 -> rnd.nextLong(1, Math.min(room, 512) + 1);
              default -> rnd.nextLong(1, room + 1);
            };
      }
      long host = hostAddress(w, count);
      long source = toHost ? window : host;
      long destination = toHost ? host : window;
      long command =
          EduRegisters.DMA_RUN.mask()
              | (toHost ? EduRegisters.DMA_TO_HOST.mask() : 0)
              | (irq ? EduRegisters.DMA_INTERRUPT_ON_DONE.mask() : 0)
              | (rnd.nextInt(10) == 0 ? rnd.nextLong() & ~7L : 0);
      op(
          "edu DMA %s: source 0x%x destination 0x%x count 0x%x command 0x%x",
          toHost ? "to host" : "to device", source, destination, count, command);
      eduDmaWrite(w, EduRegisters.DMA_SOURCE, source);
      eduDmaWrite(w, EduRegisters.DMA_DESTINATION, destination);
      eduDmaWrite(w, EduRegisters.DMA_COUNT, count);
      eduDmaWrite(w, EduRegisters.DMA_COMMAND, command);
    }

    /** A DMA register written whole, or with a 32-bit write (zero-extended) if the value fits. */
    private void eduDmaWrite(World w, Register register, long value) {
      boolean narrow = (value >>> 32) == 0 && rnd.nextBoolean();
      Class<? extends RuntimeException> expected = w.eduBarCheck(register.offset(), 8);
      expect(
          expected,
          () -> {
            if (narrow) {
              w.eduBar.putIntVolatile(register.offset(), (int) value);
            } else {
              w.eduBar.write(register, value);
            }
          });
      if (expected == null && !w.dead) {
        w.eduWritten(register.offset(), narrow ? 4 : 8, value);
      }
    }

    /** Where the host side of a transfer points: mapped, straddling, unmapped, above the mask. */
    private long hostAddress(World w, long count) {
      long length = Math.max(1, Math.min(count, 1 << 20));
      Region region = w.regions.isEmpty() ? null : w.regions.get(rnd.nextInt(w.regions.size()));
      int choice = rnd.nextInt(12);
      if (region != null && choice < 5) {
        return region.iova + rnd.nextLong(Math.max(1, region.size - length + 1));
      }
      if (region != null && choice < 7) {
        // Straddles the end (or the start) of a mapping: the neighbour may or may not be mapped.
        long k = rnd.nextLong(1, Math.max(2, length));
        return rnd.nextBoolean() ? region.iova + region.size - k : region.iova - k;
      }
      return switch (choice) {
        case 7 -> rnd.nextLong(0x10000);
        case 8 -> rnd.nextLong(1L << 28);
        case 9 -> {
          // Above the 28-bit mask: edu clamps it (as QEMU does) and reaches the low address.
          long low =
              region != null ? region.iova + rnd.nextLong(region.size) : rnd.nextLong(1L << 28);
          yield (rnd.nextLong(1, 1L << 36) << 28) | low;
        }
        case 10 -> (1L << 28) - rnd.nextLong(1, length + 1);
        default -> rnd.nextLong();
      };
    }

    // -- interrupts

    private void interruptsEnable(World w) {
      boolean onEdu = rnd.nextBoolean();
      InterruptMode mode = InterruptMode.values()[rnd.nextInt(InterruptMode.values().length)];
      int count = rnd.nextInt(8) == 0 ? rnd.nextInt(-1, 80) : 1 + rnd.nextInt(2);
      if (rnd.nextInt(4) == 0) {
        op("%s interrupts disable", onEdu ? "edu" : "nvme");
        Interrupts irqs = onEdu ? w.eduIrqs : w.nvmeIrqs;
        expect(null, irqs::disable);
        if (!(onEdu ? w.eduClosed : w.nvmeClosed)) {
          (onEdu ? w.eduIrq : w.nvmeIrq).disable();
        }
        return;
      }
      op("%s interrupts enable %s x%d", onEdu ? "edu" : "nvme", mode, count);
      IrqModel irq = onEdu ? w.eduIrq : w.nvmeIrq;
      Class<? extends RuntimeException> expected = w.handleCheck(onEdu);
      if (expected == null) {
        expected = irq.enableCheck(mode, count);
      }
      Interrupts irqs = onEdu ? w.eduIrqs : w.nvmeIrqs;
      expect(expected, () -> irqs.enable(mode, count));
      if (expected == null) {
        irq.enable(mode, count);
      }
      if (w.handleCheck(onEdu) == null) {
        requireEqual(irqs.enabledVectors(), irq.enabled, "enabled vectors");
        require(irqs.mode().equals(Optional.ofNullable(irq.mode)), "interrupt mode " + irqs.mode());
      }
    }

    private void interruptsUse(World w) {
      boolean onEdu = rnd.nextInt(4) != 0;
      IrqModel irq = onEdu ? w.eduIrq : w.nvmeIrq;
      Interrupts irqs = onEdu ? w.eduIrqs : w.nvmeIrqs;
      int vector = rnd.nextInt(10) == 0 ? rnd.nextInt(-1, 3) : 0;
      Class<? extends RuntimeException> expected = w.handleCheck(onEdu);
      if (expected == null) {
        expected = irq.check(vector);
      }
      switch (rnd.nextInt(4)) {
        case 0 -> {
          op("%s drain %d", onEdu ? "edu" : "nvme", vector);
          long got = expect(expected, () -> irqs.drain(vector));
          if (expected == null) {
            requireEqual(got, irq.take(vector), "drained");
          }
        }
        case 1 -> {
          op("%s unmask %d", onEdu ? "edu" : "nvme", vector);
          expect(expected, () -> irqs.unmask(vector));
          if (expected == null) {
            irq.unmask();
          }
        }
        default -> {
          long[] timeouts = {0, 1_000_000, 50_000_000, 100_000_000, 150_000_000, 1_000_000_000};
          long timeout =
              rnd.nextInt(5) == 0 ? rnd.nextLong(-5, 2_000_000_000L) : timeouts[rnd.nextInt(6)];
          op("%s await %d for %d ns", onEdu ? "edu" : "nvme", vector, timeout);
          long got = expect(expected, () -> irqs.await(vector, timeout));
          if (expected == null) {
            requireEqual(got, w.await(irq, vector, timeout), "await");
            w.afterClock();
          }
        }
      }
    }

    // -- the clock

    private void advance(World w) {
      long[] steps = {
        0, 1_000_000, 50_000_000, 99_999_999, 100_000_000, 100_000_001, 1_000_000_000
      };
      long nanos = rnd.nextInt(4) == 0 ? rnd.nextLong(2_000_000_000L) : steps[rnd.nextInt(7)];
      op("advance %d ns", nanos);
      expect(null, () -> w.time.advance(Duration.ofNanos(nanos)));
      w.advanceTo(w.now + nanos);
      w.afterClock();
    }

    private void advanceToNext(World w) {
      op("advance to the next work");
      long got = expect(null, () -> w.time.advanceToNext() ? 1 : 0);
      requireEqual(got, w.tasks.isEmpty() ? 0 : 1, "advanceToNext");
      if (!w.tasks.isEmpty()) {
        w.advanceTo(w.tasks.peek().due);
      }
      w.afterClock();
    }

    // -- configuration space

    private void configRead(World w) {
      boolean onEdu = rnd.nextBoolean();
      ConfigModel model = onEdu ? w.eduCfg : w.nvmeCfg;
      int width = 1 << rnd.nextInt(3);
      int offset = configOffset(model.size());
      op("%s config read%d 0x%x", onEdu ? "edu" : "nvme", width * 8, offset);
      Class<? extends RuntimeException> expected = w.handleCheck(onEdu);
      if (expected == null) {
        expected = ConfigModel.check(model.size(), offset, width);
      }
      ConfigSpace config = onEdu ? w.eduConfig : w.nvmeConfig;
      long got =
          expect(
              expected,
              () ->
                  switch (width) {
                    case 1 -> config.read8(offset);
                    case 2 -> config.read16(offset);
                    default -> Integer.toUnsignedLong(config.read32(offset));
                  });
      if (expected == null) {
        requireEqual(
            got,
            model.read(offset, width),
            (onEdu ? "edu" : "nvme") + " config at 0x" + Integer.toHexString(offset));
      }
    }

    private void configWrite(World w) {
      boolean onEdu = rnd.nextBoolean();
      ConfigModel model = onEdu ? w.eduCfg : w.nvmeCfg;
      int width = 1 << rnd.nextInt(3);
      int offset = rnd.nextInt(3) == 0 ? 4 : configOffset(model.size());
      int value = (int) randomValue();
      op("%s config write%d 0x%x = 0x%x", onEdu ? "edu" : "nvme", width * 8, offset, value);
      Class<? extends RuntimeException> expected = w.handleCheck(onEdu);
      if (expected == null) {
        expected = ConfigModel.check(model.size(), offset, width);
      }
      ConfigSpace config = onEdu ? w.eduConfig : w.nvmeConfig;
      expect(
          expected,
          () -> {
            switch (width) {
              case 1 -> config.write8(offset, value);
              case 2 -> config.write16(offset, value);
              default -> config.write32(offset, value);
            }
          });
      if (expected == null) {
        model.write(offset, width, value);
      }
    }

    private int configOffset(int size) {
      return switch (rnd.nextInt(8)) {
        case 0 -> size - rnd.nextInt(1, 5);
        case 1 -> size + rnd.nextInt(8);
        case 2 -> -rnd.nextInt(1, 8);
        case 3 -> rnd.nextInt(0x40, 0x48);
        default -> rnd.nextInt(Math.min(size, 0x100));
      };
    }

    private void busMaster(World w) {
      boolean onEdu = rnd.nextInt(4) != 0;
      boolean on = rnd.nextInt(5) != 0;
      op("%s bus master %s", onEdu ? "edu" : "nvme", on ? "on" : "off");
      ConfigModel model = onEdu ? w.eduCfg : w.nvmeCfg;
      ConfigSpace config = onEdu ? w.eduConfig : w.nvmeConfig;
      Class<? extends RuntimeException> expected = w.handleCheck(onEdu);
      expect(
          expected,
          () -> {
            if (on) {
              config.enableBusMaster();
            } else {
              config.disableBusMaster();
            }
          });
      if (expected == null) {
        model.setBusMaster(on);
      }
    }

    // -- NVMe registers

    private void nvmeRead(World w) {
      long offset = randomBarOffset(NvmeModel.BAR0_SIZE);
      int width = rnd.nextBoolean() ? 4 : 8;
      int flavour = flavour(offset);
      op("nvme read%d 0x%x (flavour %d)", width * 8, offset, flavour);
      Class<? extends RuntimeException> expected = w.nvmeBarCheck(offset, width);
      long got = expect(expected, () -> read(w.nvmeBar, offset, width, flavour));
      if (expected == null) {
        requireEqual(
            got, w.nvmeRegs.read(offset, width), "NVMe BAR0 at 0x" + Long.toHexString(offset));
      }
    }

    private void nvmeWrite(World w) {
      long offset = randomBarOffset(NvmeModel.BAR0_SIZE);
      int width = rnd.nextBoolean() ? 4 : 8;
      long value = width == 4 ? randomValue() & 0xffff_ffffL : randomValue();
      int flavour = flavour(offset);
      op("nvme write%d 0x%x = 0x%x (flavour %d)", width * 8, offset, value, flavour);
      Class<? extends RuntimeException> expected = w.nvmeBarCheck(offset, width);
      expect(expected, () -> write(w.nvmeBar, offset, width, value, flavour));
      if (expected == null) {
        w.nvmeRegs.write(offset, width, value);
      }
    }

    private void reset(World w) {
      boolean onEdu = rnd.nextBoolean();
      op("%s reset", onEdu ? "edu" : "nvme");
      Class<? extends RuntimeException> expected = w.handleCheck(onEdu);
      if (expected == null && onEdu) {
        expected = NotSupportedException.class;
      }
      SimPciDeviceHandle handle = onEdu ? w.edu : w.nvme;
      expect(expected, handle::reset);
      if (expected == null) {
        w.nvmeRegs.reset();
      }
    }

    // -- DMA memory

    private void mapHeap(World w) {
      boolean onEdu = !w.dead && !w.eduClosed && rnd.nextBoolean();
      if (!onEdu && w.nvmeClosed) {
        return;
      }
      long size = 4096L << rnd.nextInt(3);
      if (rnd.nextInt(10) == 0) {
        size = 64 << 10;
      }
      int mask = new int[] {28, 32, 64}[rnd.nextInt(3)];
      op("map a %d-byte heap through %s, %d-bit mask", size, onEdu ? "edu" : "nvme", mask);
      SimPciDeviceHandle handle = onEdu ? w.edu : w.nvme;
      DmaHeap heap = handle.dma().withMask(mask).heap(size);
      DmaBuffer buffer = heap.allocate(size);
      Region region =
          new Region(buffer.deviceAddress().value(), size, heap, buffer, new byte[(int) size]);
      require(
          region.iova + size - 1 <= (mask == 64 ? Long.MAX_VALUE : (1L << mask) - 1),
          "a mapping above its DMA mask: " + region);
      require(
          buffer.segment().mismatch(MemorySegment.ofArray(region.shadow)) == -1,
          "fresh simulated host memory is not zero");
      w.regions.add(region);
      w.regions.sort(Comparator.comparingLong(Region::iova));
      w.checkMappings();
    }

    private void unmapHeap(World w) {
      if (w.regions.isEmpty()) {
        return;
      }
      Region region = w.regions.remove(rnd.nextInt(w.regions.size()));
      op("unmap the heap at 0x%x", region.iova);
      region.buffer.close();
      region.heap.close();
      w.checkMappings();
    }

    private void driverWritesMemory(World w) {
      if (w.regions.isEmpty()) {
        return;
      }
      Region region = w.regions.get(rnd.nextInt(w.regions.size()));
      int at = rnd.nextInt((int) region.size);
      int length = rnd.nextInt(1, (int) Math.min(region.size - at, 4096) + 1);
      byte[] bytes = new byte[length];
      rnd.nextBytes(bytes);
      op("driver writes %d bytes at 0x%x", length, region.iova + at);
      MemorySegment.copy(bytes, 0, region.buffer.segment(), ValueLayout.JAVA_BYTE, at, length);
      System.arraycopy(bytes, 0, region.shadow, at, length);
    }

    // -- handles

    private void barIndex(World w) {
      boolean onEdu = rnd.nextBoolean();
      int index = rnd.nextInt(-1, 8);
      op("%s bar(%d)", onEdu ? "edu" : "nvme", index);
      Class<? extends RuntimeException> expected = w.handleCheck(onEdu);
      if (expected == null) {
        expected =
            index < 0 || index > 5
                ? IllegalArgumentException.class
                : index == 0 ? null : PciException.class;
      }
      SimPciDeviceHandle handle = onEdu ? w.edu : w.nvme;
      long size = expect(expected, () -> handle.bar(index).size());
      if (expected == null) {
        requireEqual(size, onEdu ? EduRegisters.BAR0_SIZE : NvmeModel.BAR0_SIZE, "BAR0 size");
      }
    }

    private void badRegisterValues(World w) {
      boolean onEdu = rnd.nextBoolean();
      Mmio bar = onEdu ? w.eduBar : w.nvmeBar;
      int width = rnd.nextBoolean() ? 1 : 2;
      long offset = rnd.nextLong(0x100);
      switch (rnd.nextInt(3)) {
        case 0 -> {
          op("%s read of a %d-byte register at 0x%x", onEdu ? "edu" : "nvme", width, offset);
          expect(IllegalArgumentException.class, () -> bar.read(new Register("N", offset, width)));
        }
        case 1 -> {
          op("%s write of a %d-byte register at 0x%x", onEdu ? "edu" : "nvme", width, offset);
          expect(
              IllegalArgumentException.class, () -> bar.write(new Register("N", offset, width), 1));
        }
        default -> {
          op("%s write of 2^32 to a 32-bit register", onEdu ? "edu" : "nvme");
          expect(
              IllegalArgumentException.class,
              () -> bar.write(new Register("N", offset & ~3L, 4), 1L << 32));
        }
      }
    }

    private void closeAndReopen(World w) {
      boolean onEdu = rnd.nextBoolean();
      op("%s close and reopen", onEdu ? "edu" : "nvme");
      SimPciDeviceHandle old = onEdu ? w.edu : w.nvme;
      Mmio oldBar = onEdu ? w.eduBar : w.nvmeBar;
      boolean wasClosed = onEdu ? w.eduClosed : w.nvmeClosed;
      expect(null, old::close);
      if (!wasClosed) {
        (onEdu ? w.eduIrq : w.nvmeIrq).disable();
        (onEdu ? w.eduCfg : w.nvmeCfg).setBusMaster(false);
      }
      if (onEdu) {
        w.eduClosed = true;
      } else {
        w.nvmeClosed = true;
      }
      expect(IllegalStateException.class, () -> old.bar(0));
      expect(IllegalStateException.class, () -> oldBar.getIntVolatile(0));
      expect(IllegalStateException.class, () -> oldBar.getIntVolatile(-4));
      expect(IllegalStateException.class, old::config);
      if (onEdu && w.dead) {
        expect(IllegalStateException.class, () -> w.machine.open(EDU));
        return;
      }
      w.open(onEdu);
      if (rnd.nextInt(8) != 0) {
        (onEdu ? w.eduConfig : w.nvmeConfig).enableBusMaster();
        (onEdu ? w.eduCfg : w.nvmeCfg).setBusMaster(true);
      }
    }

    private void deviceSide(World w) {
      if (rnd.nextBoolean()) {
        Register register = World.EDU_REGISTERS.get(rnd.nextInt(World.EDU_REGISTERS.size()));
        op("edu device side: value(%s)", register);
        requireEqual(
            w.eduModel.bar0().value(register), w.eduValue(register, true), "value " + register);
        op("edu device side: value of an undeclared register");
        expect(
            IllegalArgumentException.class,
            () -> w.eduModel.bar0().value(new Register("X", 0x40, 4)));
      } else {
        Register[] nvme = {NvmeRegisters.CSTS, NvmeRegisters.NSSR, NvmeRegisters.CC};
        Register register = nvme[rnd.nextInt(nvme.length)];
        long value = randomValue() & register.mask();
        op("nvme device side: store(%s, 0x%x)", register, value);
        Class<? extends RuntimeException> expected =
            register == NvmeRegisters.NSSR ? IllegalArgumentException.class : null;
        expect(expected, () -> w.nvmeModel.bar0().store(register, value));
        if (expected == null) {
          w.nvmeRegs.store(register.offset(), register.width(), value);
          requireEqual(w.nvmeModel.bar0().value(register), value, "value " + register);
        }
      }
    }
  }

  // ---- the machine and the reference model of its devices

  /** A host memory mapping the run made, with what its bytes should be. */
  record Region(long iova, long size, DmaHeap heap, DmaBuffer buffer, byte[] shadow) {
    boolean contains(long address) {
      return address >= iova && address - iova < size;
    }
  }

  /** Clock work the reference model expects the machine to have scheduled. */
  record Task(long due, long order, boolean transfer) {}

  /** One simulated machine, its handles, and what its devices should do. */
  static final class World {
    static final List<Register> EDU_REGISTERS =
        List.of(
            EduRegisters.ID,
            EduRegisters.LIVENESS,
            EduRegisters.FACTORIAL,
            EduRegisters.STATUS,
            EduRegisters.INTERRUPT_STATUS,
            EduRegisters.INTERRUPT_RAISE,
            EduRegisters.INTERRUPT_ACK,
            EduRegisters.DMA_SOURCE,
            EduRegisters.DMA_DESTINATION,
            EduRegisters.DMA_COUNT,
            EduRegisters.DMA_COMMAND);
    private static final long RUN = 1;
    private static final long TO_HOST = 2;
    private static final long IRQ = 4;
    private static final long MASK = (1L << 28) - 1;

    final Fuzz fuzz;
    final SimMachine machine;
    final VirtualTime time;
    final EduModel eduModel;
    final NvmeModel nvmeModel;
    SimPciDeviceHandle edu;
    SimPciDeviceHandle nvme;
    Mmio eduBar;
    Mmio nvmeBar;
    Interrupts eduIrqs;
    Interrupts nvmeIrqs;
    ConfigSpace eduConfig;
    ConfigSpace nvmeConfig;
    boolean eduClosed;
    boolean nvmeClosed;
    final List<Region> regions = new ArrayList<>();

    // The reference model.
    final ConfigModel eduCfg;
    final ConfigModel nvmeCfg;
    final IrqModel eduIrq;
    final IrqModel nvmeIrq;
    final NvmeRegisterModel nvmeRegs = new NvmeRegisterModel();
    final PriorityQueue<Task> tasks =
        new PriorityQueue<>(Comparator.comparingLong(Task::due).thenComparingLong(Task::order));
    long order;
    long now;
    boolean dead;
    int deadFor;
    String fatalRange;
    long faultCount;
    final List<DmaFault> newFaults = new ArrayList<>();
    final List<String> clampNotes = new ArrayList<>();
    long liveness;
    long factorial;
    boolean computing;
    boolean irqOnFactorial;
    long interruptStatus;
    long dmaSource;
    long dmaDestination;
    long dmaCount;
    long dmaCommand;
    final byte[] buffer = new byte[EduRegisters.BUFFER_SIZE];

    World(Fuzz fuzz) {
      this.fuzz = fuzz;
      this.machine =
          SimMachine.qemuQ35Builder("vfio-pci", "vfio-pci")
              .virtualTime()
              .traceCapacity(256)
              .build();
      this.time = machine.virtualTime();
      this.eduModel = (EduModel) machine.model(EDU);
      this.nvmeModel = (NvmeModel) machine.model(NVME);
      open(true);
      open(false);
      this.eduCfg = new ConfigModel(eduConfig, 0x40, 0);
      this.nvmeCfg = new ConfigModel(nvmeConfig, 0, 0x40);
      Fuzz.requireEqual(eduCfg.read(0, 4), 0x11e8_1234L, "edu vendor and device");
      Fuzz.requireEqual(nvmeCfg.read(0, 4), 0x0010_1b36L, "NVMe vendor and device");
      this.eduIrq = new IrqModel(fuzz, eduCfg);
      this.nvmeIrq = new IrqModel(fuzz, nvmeCfg);
    }

    void open(boolean onEdu) {
      SimPciDeviceHandle handle = machine.open(onEdu ? EDU : NVME);
      if (onEdu) {
        edu = handle;
        eduBar = handle.bar(0);
        eduIrqs = handle.interrupts();
        eduConfig = handle.config();
        eduClosed = false;
      } else {
        nvme = handle;
        nvmeBar = handle.bar(0);
        nvmeIrqs = handle.interrupts();
        nvmeConfig = handle.config();
        nvmeClosed = false;
      }
    }

    void close() {
      for (Region region : regions) {
        region.buffer.close();
        region.heap.close();
      }
      regions.clear();
      edu.close();
      nvme.close();
      machine.close();
    }

    /** What a call on the handle (other than a BAR access) throws for the handle's state. */
    Class<? extends RuntimeException> handleCheck(boolean onEdu) {
      return (onEdu && (eduClosed || dead)) || (!onEdu && nvmeClosed)
          ? IllegalStateException.class
          : null;
    }

    Class<? extends RuntimeException> eduBarCheck(long offset, int width) {
      return eduClosed
          ? IllegalStateException.class
          : barCheck(EduRegisters.BAR0_SIZE, offset, width);
    }

    Class<? extends RuntimeException> nvmeBarCheck(long offset, int width) {
      return nvmeClosed
          ? IllegalStateException.class
          : barCheck(NvmeModel.BAR0_SIZE, offset, width);
    }

    static Class<? extends RuntimeException> barCheck(long size, long offset, int width) {
      if (offset < 0 || offset > size - width) {
        return IndexOutOfBoundsException.class;
      }
      return offset % width != 0 ? IllegalArgumentException.class : null;
    }

    // -- edu's registers, as QEMU 7.2's edu_mmio_read and edu_mmio_write have them

    static Register eduRegisterAt(long offset) {
      for (Register register : EDU_REGISTERS) {
        if (register.offset() == offset) {
          return register;
        }
      }
      return null;
    }

    long eduRead(long offset, int width) {
      long ones = width == 4 ? 0xffff_ffffL : -1L;
      Register register = eduRegisterAt(offset);
      if (dead || register == null || width > register.width()) {
        return ones;
      }
      long value = eduValue(register, false);
      return width == 4 ? value & 0xffff_ffffL : value;
    }

    /** A register's value; write-only ones read all ones from the host, 0 from the device. */
    long eduValue(Register register, boolean deviceSide) {
      return switch (register.name()) {
        case "ID" -> 0x010000edL;
        case "LIVENESS" -> liveness;
        case "FACTORIAL" -> factorial;
        case "STATUS" -> (computing ? 1 : 0) | (irqOnFactorial ? 0x80 : 0);
        case "INTERRUPT_STATUS" -> interruptStatus;
        case "INTERRUPT_RAISE", "INTERRUPT_ACK" -> deviceSide ? 0 : 0xffff_ffffL;
        case "DMA_SOURCE" -> dmaSource;
        case "DMA_DESTINATION" -> dmaDestination;
        case "DMA_COUNT" -> dmaCount;
        case "DMA_COMMAND" -> dmaCommand;
        default -> throw new AssertionError(register);
      };
    }

    void eduWritten(long offset, int width, long value) {
      Register register = eduRegisterAt(offset);
      if (register == null || width > register.width()) {
        return;
      }
      boolean running = (dmaCommand & RUN) != 0;
      switch (register.name()) {
        case "LIVENESS" -> liveness = ~value & 0xffff_ffffL;
        case "FACTORIAL" -> {
          if (!computing) {
            factorial = value;
            computing = true;
            schedule(now, false);
          }
        }
        case "STATUS" -> irqOnFactorial = (value & 0x80) != 0;
        case "INTERRUPT_RAISE" -> raise(value);
        case "INTERRUPT_ACK" -> lower(value);
        case "DMA_SOURCE" -> dmaSource = running ? dmaSource : value;
        case "DMA_DESTINATION" -> dmaDestination = running ? dmaDestination : value;
        case "DMA_COUNT" -> dmaCount = running ? dmaCount : value;
        case "DMA_COMMAND" -> {
          if ((value & RUN) != 0 && !running) {
            dmaCommand = value;
            schedule(now + EduModel.TRANSFER_TIME.toNanos(), true);
          }
        }
        default -> {}
      }
    }

    private void raise(long causes) {
      interruptStatus |= causes & 0xffff_ffffL;
      if (interruptStatus != 0) {
        if (eduCfg.msiEnabled()) {
          eduIrq.message();
        } else {
          eduIrq.intx(true);
        }
      }
    }

    private void lower(long causes) {
      interruptStatus &= ~causes & 0xffff_ffffL;
      if (interruptStatus == 0 && !eduCfg.msiEnabled()) {
        eduIrq.intx(false);
      }
    }

    private void computeFactorial() {
      int n = (int) factorial;
      int result = 1;
      if (Integer.compareUnsigned(n, 34) >= 0) {
        result = 0; // 34! has 32 factors of two
      } else {
        while (n > 0) {
          result *= n--;
        }
      }
      factorial = Integer.toUnsignedLong(result);
      computing = false;
      if (irqOnFactorial) {
        raise(EduRegisters.FACTORIAL_INTERRUPT);
      }
    }

    /** {@code edu_dma_timer}: the copy, through what the bus and the IOMMU allow. */
    private void transfer() {
      long command = dmaCommand;
      boolean toHost = (command & TO_HOST) != 0;
      long window = toHost ? dmaSource : dmaDestination;
      long count = dmaCount;
      long end = window + count;
      long windowEnd = EduRegisters.BUFFER + EduRegisters.BUFFER_SIZE;
      boolean inWindow =
          Long.compareUnsigned(window, EduRegisters.BUFFER) >= 0
              && Long.compareUnsigned(window, windowEnd) < 0
              && Long.compareUnsigned(end, window) > 0
              && Long.compareUnsigned(end, EduRegisters.BUFFER) >= 0
              && Long.compareUnsigned(end, windowEnd) < 0;
      if (!inWindow) {
        dead = true;
        fatalRange = String.format("DMA range 0x%016x-0x%016x out of bounds", window, end - 1);
        fuzz.fatals++;
        return;
      }
      long host = toHost ? dmaDestination : dmaSource;
      long address = host & MASK;
      if (address != host) {
        clampNotes.add(String.format("EDU: clamping DMA 0x%016x to 0x%016x!", host, address));
      }
      int at = (int) (window - EduRegisters.BUFFER);
      int length = (int) count;
      DmaDirection direction = toHost ? DmaDirection.WRITE : DmaDirection.READ;
      DmaFault.Reason refused;
      if (!eduCfg.busMaster()) {
        refused = DmaFault.Reason.BUS_MASTER_OFF;
      } else if (address + length - 1 > MASK) {
        refused = DmaFault.Reason.ABOVE_MASK;
      } else if (!mapped(address, length)) {
        refused = DmaFault.Reason.NOT_MAPPED;
      } else {
        refused = null;
      }
      if (refused != null) {
        newFaults.add(new DmaFault(EDU, address, length, direction, refused, now));
        faultCount++;
        fuzz.faults++;
        fuzz.reasons.merge(refused, 1L, Long::sum);
        if (!toHost) {
          Arrays.fill(buffer, at, at + length, (byte) 0);
        }
      } else {
        copy(address, at, length, toHost);
        fuzz.copied++;
      }
      dmaCommand = command & ~RUN;
      if ((command & IRQ) != 0) {
        raise(EduRegisters.DMA_INTERRUPT);
      }
    }

    private boolean mapped(long address, long length) {
      long at = address;
      long last = address + length - 1;
      while (at <= last) {
        Region region = regionAt(at);
        if (region == null) {
          return false;
        }
        at = region.iova + region.size;
      }
      return true;
    }

    private Region regionAt(long address) {
      for (Region region : regions) {
        if (region.contains(address)) {
          return region;
        }
      }
      return null;
    }

    /** Copies between the device's buffer and what host memory should hold, mapping by mapping. */
    private void copy(long address, int at, int length, boolean toHost) {
      int done = 0;
      while (done < length) {
        Region region = regionAt(address + done);
        int offset = (int) (address + done - region.iova);
        int chunk = (int) Math.min(length - done, region.size - offset);
        if (toHost) {
          System.arraycopy(buffer, at + done, region.shadow, offset, chunk);
        } else {
          System.arraycopy(region.shadow, offset, buffer, at + done, chunk);
        }
        done += chunk;
      }
    }

    // -- the clock

    private void schedule(long due, boolean transfer) {
      tasks.add(new Task(due, order++, transfer));
    }

    /** {@code VirtualTime.advanceTo}: runs what falls due, in time order, each at its time. */
    void advanceTo(long target) {
      while (!tasks.isEmpty() && tasks.peek().due() <= target) {
        Task task = tasks.poll();
        now = Math.max(now, task.due());
        // Work of a dead model does not run.
        if (!dead) {
          if (task.transfer()) {
            transfer();
          } else {
            computeFactorial();
          }
        }
      }
      now = Math.max(now, target);
    }

    /** A driver's wait in virtual time: the clock moves to the next work, up to the timeout. */
    long await(IrqModel irq, int vector, long timeout) {
      long deadline = now + Math.max(0, timeout);
      while (true) {
        if (irq.pending[vector] > 0) {
          return irq.take(vector);
        }
        if (tasks.isEmpty() || tasks.peek().due() > deadline) {
          advanceTo(deadline);
          return irq.take(vector);
        }
        advanceTo(tasks.peek().due());
      }
    }

    /** After the clock moved: faults, death, host memory and trace notes as expected. */
    void afterClock() {
      SimIommu iommu = machine.iommu();
      Fuzz.requireEqual(iommu.faultCount(), faultCount, "DMA faults logged");
      if (!newFaults.isEmpty()) {
        List<DmaFault> logged = iommu.faults();
        List<DmaFault> last = logged.subList(logged.size() - newFaults.size(), logged.size());
        Fuzz.require(last.equals(newFaults), "DMA faults " + last + ", expected " + newFaults);
        newFaults.clear();
      }
      Optional<String> fatal = machine.fatal(EDU);
      Fuzz.require(
          fatal.isPresent() == dead,
          dead ? "edu lives after a transfer outside its window" : "edu died: " + fatal);
      if (dead && fatalRange != null) {
        Fuzz.require(
            fatal.get().contains("EDU: " + fatalRange) && fatal.get().contains("QEMU 7.2 aborts"),
            "the reason of death: " + fatal.get());
        fatalRange = null;
        checkDead();
      }
      for (Region region : regions) {
        long mismatch = region.buffer.segment().mismatch(MemorySegment.ofArray(region.shadow));
        Fuzz.require(
            mismatch == -1,
            String.format(
                "host memory at 0x%x differs from what the transfers wrote",
                region.iova + mismatch));
      }
      if (!clampNotes.isEmpty()) {
        List<String> notes =
            machine.trace().events().stream()
                .filter(e -> e.kind() == TraceEvent.Kind.NOTE)
                .map(TraceEvent::source)
                .toList();
        Fuzz.require(notes.containsAll(clampNotes), "notes " + notes + ", expected " + clampNotes);
        clampNotes.clear();
      }
    }

    /** A dead edu: BARs read all ones and ignore writes, the rest throws; NVMe carries on. */
    private void checkDead() {
      if (!eduClosed) {
        Fuzz.requireEqual(eduBar.read(EduRegisters.ID), 0xffff_ffffL, "ID of a dead edu");
        Fuzz.requireEqual(eduBar.getLongVolatile(0x80), -1L, "DMA_SOURCE of a dead edu");
        eduBar.write(EduRegisters.LIVENESS, 1);
        Fuzz.requireEqual(eduBar.read(EduRegisters.LIVENESS), 0xffff_ffffL, "dead LIVENESS");
        fuzz.expect(IllegalStateException.class, edu::interrupts);
        fuzz.expect(IllegalStateException.class, () -> eduIrqs.drain(0));
        fuzz.expect(IllegalStateException.class, edu::dma);
      }
      fuzz.expect(IllegalStateException.class, () -> machine.open(EDU));
      Fuzz.require(machine.fatal(NVME).isEmpty(), "NVMe died with edu");
      if (!nvmeClosed) {
        Fuzz.requireEqual(nvmeBar.getLongVolatile(0), NvmeModel.QEMU_CAP, "NVMe CAP");
      }
    }

    /** After every operation: the clock and its work, the model's life, edu's identity. */
    void checkInvariants() {
      Fuzz.requireEqual(time.nanoTime(), now, "virtual time");
      Fuzz.requireEqual(time.pending(), tasks.size(), "work pending on the clock");
      Fuzz.requireEqual(
          time.nextDue().orElse(-1), tasks.isEmpty() ? -1 : tasks.peek().due(), "next work due");
      Fuzz.require(machine.fatal(EDU).isPresent() == dead, "edu's life: " + machine.fatal(EDU));
      Fuzz.requireEqual(machine.iommu().faultCount(), faultCount, "DMA faults logged");
      if (!eduClosed) {
        Fuzz.requireEqual(
            eduBar.read(EduRegisters.ID), dead ? 0xffff_ffffL : 0x010000edL, "edu's ID");
      }
    }

    void checkMappings() {
      List<String> actual =
          machine.iommu().mappings().stream()
              .map(m -> Long.toHexString(m.iova().value()) + "+" + m.segment().byteSize())
              .toList();
      List<String> expected =
          regions.stream().map(r -> Long.toHexString(r.iova) + "+" + r.size).toList();
      Fuzz.require(actual.equals(expected), "IOMMU mappings " + actual + ", expected " + expected);
    }
  }

  /** A function's configuration space: the bytes at open, with the command register writable. */
  static final class ConfigModel {
    private final byte[] bytes;
    private final byte[] writable;
    private final int msi;
    private final int msix;

    ConfigModel(ConfigSpace config, int msi, int msix) {
      this.bytes = new byte[config.size()];
      for (int i = 0; i < bytes.length; i += 4) {
        int word = config.read32(i);
        for (int j = 0; j < 4; j++) {
          bytes[i + j] = (byte) (word >>> (8 * j));
        }
      }
      this.writable = new byte[bytes.length];
      writable[4] = 0x07; // I/O, memory, bus master
      writable[5] = 0x04; // INTx disable
      this.msi = msi;
      this.msix = msix;
    }

    int size() {
      return bytes.length;
    }

    static Class<? extends RuntimeException> check(int size, int offset, int width) {
      if (offset < 0 || offset > size - width) {
        return IndexOutOfBoundsException.class;
      }
      return offset % width != 0 ? IllegalArgumentException.class : null;
    }

    long read(int offset, int width) {
      long value = 0;
      for (int i = width - 1; i >= 0; i--) {
        value = (value << 8) | (bytes[offset + i] & 0xff);
      }
      return value;
    }

    void write(int offset, int width, int value) {
      for (int i = 0; i < width; i++) {
        byte mask = writable[offset + i];
        bytes[offset + i] = (byte) ((bytes[offset + i] & ~mask) | ((value >>> (8 * i)) & mask));
      }
    }

    void store16(int offset, int value) {
      bytes[offset] = (byte) value;
      bytes[offset + 1] = (byte) (value >>> 8);
    }

    void setBusMaster(boolean on) {
      bytes[4] = (byte) (on ? bytes[4] | 4 : bytes[4] & ~4);
    }

    boolean busMaster() {
      return (bytes[4] & 4) != 0;
    }

    boolean intxDisabled() {
      return (bytes[5] & 4) != 0;
    }

    boolean msiEnabled() {
      return msi != 0 && (read(msi + 2, 2) & 1) != 0;
    }

    int vectors(InterruptMode mode) {
      return switch (mode) {
        case INTX -> bytes[0x3d] != 0 ? 1 : 0;
        case MSI -> msi == 0 ? 0 : 1 << ((read(msi + 2, 2) >> 1) & 7);
        case MSIX -> msix == 0 ? 0 : (int) (read(msix + 2, 2) & 0x7ff) + 1;
      };
    }
  }

  /** A function's interrupts as vfio-pci has them: MSI a message, INTx a masked level. */
  static final class IrqModel {
    private final Fuzz fuzz;
    private final ConfigModel config;
    InterruptMode mode;
    int enabled;
    final long[] pending = new long[80];
    boolean level;
    boolean masked;

    IrqModel(Fuzz fuzz, ConfigModel config) {
      this.fuzz = fuzz;
      this.config = config;
    }

    Class<? extends RuntimeException> enableCheck(InterruptMode mode, int count) {
      if (count < 1) {
        return IllegalArgumentException.class;
      }
      return count > config.vectors(mode) ? NotSupportedException.class : null;
    }

    Class<? extends RuntimeException> check(int vector) {
      if (mode == null) {
        return IllegalStateException.class;
      }
      return vector < 0 || vector >= enabled ? IndexOutOfBoundsException.class : null;
    }

    void enable(InterruptMode mode, int count) {
      disable();
      this.mode = mode;
      this.enabled = count;
      Arrays.fill(pending, 0);
      switch (mode) {
        case MSI -> {
          int control = (int) config.read(config.msi + 2, 2);
          int log2 = 32 - Integer.numberOfLeadingZeros(count - 1);
          config.store16(config.msi + 2, (control & ~0x71) | (log2 << 4) | 1);
        }
        case MSIX ->
            config.store16(config.msix + 2, (int) config.read(config.msix + 2, 2) | 0x8000);
        case INTX -> {
          masked = false;
          fireIntx();
        }
      }
    }

    void disable() {
      if (mode == InterruptMode.MSI) {
        config.store16(config.msi + 2, (int) config.read(config.msi + 2, 2) & ~0x71);
      } else if (mode == InterruptMode.MSIX) {
        config.store16(config.msix + 2, (int) config.read(config.msix + 2, 2) & ~0x8000);
      }
      mode = null;
      enabled = 0;
    }

    long take(int vector) {
      long fired = pending[vector];
      pending[vector] = 0;
      return fired;
    }

    void unmask() {
      if (mode == InterruptMode.INTX) {
        masked = false;
        fireIntx();
      }
    }

    void message() {
      if (mode == InterruptMode.MSI && enabled > 0 && config.busMaster()) {
        deliver();
      }
    }

    void intx(boolean asserted) {
      level = asserted;
      if (asserted) {
        fireIntx();
      }
    }

    private void fireIntx() {
      if (level && mode == InterruptMode.INTX && !masked && !config.intxDisabled()) {
        masked = true;
        deliver();
      }
    }

    private void deliver() {
      pending[0]++;
      fuzz.interrupts++;
    }
  }

  /**
   * QEMU 7.2's NVMe registers as bytes: CAP and VS read-only, CC, AQA, ASQ, ACQ as written, INTMS
   * and INTMC setting and clearing one mask.
   */
  static final class NvmeRegisterModel {
    private final byte[] bytes = new byte[0x38];
    private final boolean[] writable = new boolean[0x38];

    NvmeRegisterModel() {
      store(NvmeRegisters.CAP.offset(), 8, NvmeModel.QEMU_CAP);
      store(NvmeRegisters.VS.offset(), 4, NvmeModel.QEMU_VS);
      for (Register register :
          List.of(NvmeRegisters.CC, NvmeRegisters.AQA, NvmeRegisters.ASQ, NvmeRegisters.ACQ)) {
        Arrays.fill(
            writable, (int) register.offset(), (int) (register.offset() + register.width()), true);
      }
    }

    long read(long offset, int width) {
      long value = 0;
      for (int i = width - 1; i >= 0; i--) {
        long at = offset + i;
        value = (value << 8) | (at < bytes.length ? bytes[(int) at] & 0xff : 0);
      }
      return value;
    }

    void write(long offset, int width, long value) {
      if (width == 8) {
        write(offset, 4, value & 0xffff_ffffL);
        write(offset + 4, 4, value >>> 32);
        return;
      }
      if (offset == NvmeRegisters.INTMS.offset() || offset == NvmeRegisters.INTMC.offset()) {
        // QEMU's INTMS sets mask bits, INTMC clears them; both read as the mask.
        long mask = read(NvmeRegisters.INTMS.offset(), 4);
        mask = offset == NvmeRegisters.INTMS.offset() ? mask | value : mask & ~value;
        store(NvmeRegisters.INTMS.offset(), 4, mask);
        store(NvmeRegisters.INTMC.offset(), 4, mask);
        return;
      }
      for (int i = 0; i < width; i++) {
        long at = offset + i;
        if (at < bytes.length && writable[(int) at]) {
          bytes[(int) at] = (byte) (value >>> (8 * i));
        }
      }
    }

    void store(long offset, int width, long value) {
      for (int i = 0; i < width; i++) {
        bytes[(int) offset + i] = (byte) (value >>> (8 * i));
      }
    }

    void reset() {
      store(NvmeRegisters.CC.offset(), 4, 0);
      store(NvmeRegisters.CSTS.offset(), 4, 0);
      store(NvmeRegisters.INTMS.offset(), 4, 0);
      store(NvmeRegisters.INTMC.offset(), 4, 0);
    }
  }
}
