package dev.upcie.junit;

import static dev.upcie.junit.Kit.kit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.cause;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.instanceOf;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import dev.upcie.junit.PciDevice.Scope;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.sysfs.SimFunction;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * {@link SimulatedMachine} builds the machine a test asks for; tests running in parallel share a
 * class's device; a failing test's device is still closed.
 */
class SimulatedMachineTest {
  static final List<Object> SEEN = new CopyOnWriteArrayList<>();

  @BeforeEach
  void forget() {
    SEEN.clear();
  }

  @Test
  void virtualTimeLetsASlowControllerBecomeReadyAtOnce() {
    long start = System.nanoTime();
    kit().run(SlowController.class).testEvents().assertStatistics(s -> s.succeeded(1));

    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("a 5 s ready delay, in virtual time")
        .isLessThan(Duration.ofSeconds(4));
    assertThat(((SimMachine) SEEN.get(0)).virtualTime().nanoTime())
        .isGreaterThanOrEqualTo(Duration.ofSeconds(5).toNanos());
  }

  @Test
  void theNvmeOptionsShapeTheController() {
    kit().run(TwoNamespaces.class).testEvents().assertStatistics(s -> s.succeeded(1));

    assertThat(SEEN).containsExactly(List.of(1, 2), 8L << 20, 4096, 5);
  }

  @Test
  void aRecordedMachineGetsModelsBehindItsDevices() {
    kit().run(Recorded.class).testEvents().assertStatistics(s -> s.succeeded(1));

    assertThat(SEEN).containsExactly("0000:00:05.0");
  }

  @Test
  void aFactoryBuildsTheUsersOwnMachine() {
    kit().run(OwnBoard.class).testEvents().assertStatistics(s -> s.succeeded(1));

    assertThat(SEEN).containsExactly("0000:00:07.0");
  }

  @Test
  void mistakesInTheSettingsAreReportedPrecisely() {
    kit()
        .run(BadSettings.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            finishedWithFailure(
                cause(
                    instanceOf(ExtensionConfigurationException.class),
                    message(
                        "@SimulatedMachine of BadSettings: namespaces = \"64Q\": invalid size"
                            + " \"64Q\": expected a whole number with an optional unit K, M, G"
                            + " or T (1K = 1024), e.g. 2M or 4G"))));
  }

  @Test
  void parallelTestsShareTheirClasssDeviceOpenedOnce() {
    kit()
        .with("junit.jupiter.execution.parallel.enabled", "true")
        .with("junit.jupiter.execution.parallel.config.strategy", "fixed")
        .with("junit.jupiter.execution.parallel.config.fixed.parallelism", "4")
        .run(Parallel.class)
        .testEvents()
        .assertStatistics(s -> s.succeeded(4));

    assertThat(SEEN).hasSize(4).allSatisfy(d -> assertThat(d).isSameAs(SEEN.get(0)));
    assertThat(Parallel.THREADS).as("they really ran at once").hasSizeGreaterThan(1);
  }

  @Test
  void aFailingTestsDeviceIsClosedAllTheSame() {
    kit().run(FailsMidway.class).testEvents().assertStatistics(s -> s.failed(1));

    NvmeModel model = (NvmeModel) SEEN.get(0);
    assertThat(model.bar0().read(dev.upcie.nvme.NvmeRegisters.CC) & 1)
        .as("the driver shut the controller down and disabled it")
        .isZero();
  }

  @Test
  void jitterCompletesOutOfOrderAndTheSeedReplaysTheOrder() {
    kit()
        .with("upcie.sim.replay", "seed=42")
        .run(Jittery.class)
        .testEvents()
        .assertStatistics(s -> s.succeeded(1));
    @SuppressWarnings("unchecked")
    List<Long> first = List.copyOf((List<Long>) SEEN.get(0));
    SEEN.clear();
    kit()
        .with("upcie.sim.replay", "seed=42")
        .run(Jittery.class)
        .testEvents()
        .assertStatistics(s -> s.succeeded(1));
    @SuppressWarnings("unchecked")
    List<Long> again = (List<Long>) SEEN.get(0);
    SEEN.clear();
    kit()
        .with("upcie.sim.replay", "seed=43")
        .run(Jittery.class)
        .testEvents()
        .assertStatistics(s -> s.succeeded(1));
    @SuppressWarnings("unchecked")
    List<Long> other = (List<Long>) SEEN.get(0);

    assertThat(first).as("32 reads, each completed once").hasSize(32).doesNotHaveDuplicates();
    assertThat(first).as("out of submission order").isNotEqualTo(first.stream().sorted().toList());
    assertThat(again).as("the same seed, the same order").isEqualTo(first);
    assertThat(other).as("another seed, another order").isNotEqualTo(first);
  }

  @SimulatedMachine(time = SimulatedMachine.Time.VIRTUAL, jitter = "50us")
  static class Jittery {
    @Test
    void test(@PciDevice(classCode = "010802") NvmeController nvme) {
      List<Long> order = new java.util.ArrayList<>();
      dev.upcie.nvme.driver.NvmeNamespace ns = nvme.namespace(1);
      try (dev.upcie.nvme.driver.NvmeQueuePair io =
              nvme.createQueuePair(dev.upcie.nvme.driver.QueuePairOptions.depth(64));
          dev.upcie.memory.DmaHeap heap = nvme.device().dma().heap(1 << 20);
          dev.upcie.memory.DmaBuffer buffer = heap.allocate(32 * 512, 4096)) {
        for (long tag = 0; tag < 32; tag++) {
          io.submitRead(ns, tag, 1, buffer, tag * 512, tag);
        }
        io.await(32, Duration.ofSeconds(10), (tag, result, error) -> order.add(tag));
      }
      SEEN.add(order);
    }
  }

  @SimulatedMachine(time = SimulatedMachine.Time.VIRTUAL, readyDelay = "5s")
  static class SlowController {
    @Test
    void test(
        @PciDevice(classCode = "010802") NvmeController nvme,
        @PciDevice(classCode = "010802") SimMachine machine) {
      SEEN.add(machine);
    }
  }

  @SimulatedMachine(
      namespaces = {"8M", "16M/4096"},
      mdts = 5)
  static class TwoNamespaces {
    @Test
    void test(@PciDevice(classCode = "010802") NvmeController nvme) {
      SEEN.add(nvme.activeNamespaces());
      SEEN.add(nvme.identifyNamespace(1).size() * nvme.identifyNamespace(1).blockSize());
      SEEN.add((int) nvme.identifyNamespace(2).blockSize());
      SEEN.add(nvme.identify().maxDataTransferSize());
    }
  }

  @SimulatedMachine(
      recording = "../upcie-sim/src/test/resources/sysfs/qemu-q35-iommu-vfio.umockdev")
  static class Recorded {
    @Test
    void test(
        @PciDevice(classCode = "010802") NvmeModel model,
        @PciDevice(classCode = "010802") PciDeviceHandle nvme) {
      SEEN.add(nvme.address().toString());
    }
  }

  /** A board with a second edu at 00:07.0. */
  public static final class Board implements SimMachineFactory {
    @Override
    public SimMachine create(SimulatedMachine.Time time) {
      SimMachine.Builder board = SimMachine.qemuQ35Builder("vfio-pci", "vfio-pci");
      board.device(
          SimFunction.builder("0000:00:07.0")
              .iommuGroup(8)
              .driver("vfio-pci")
              .driverOverride("vfio-pci"),
          new dev.upcie.sim.edu.EduModel());
      return board.build();
    }
  }

  @SimulatedMachine(factory = Board.class)
  static class OwnBoard {
    @Test
    void test(@PciDevice(address = "00:07.0") PciDeviceHandle second) {
      SEEN.add(second.address().toString());
    }
  }

  @SimulatedMachine(namespaces = "64Q")
  static class BadSettings {
    @Test
    void test(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {}
  }

  @Execution(ExecutionMode.CONCURRENT)
  static class Parallel {
    static final Map<String, Boolean> THREADS = new ConcurrentHashMap<>();
    static final CountDownLatch TOGETHER = new CountDownLatch(2);

    @PciDevice(classCode = "010802", scope = Scope.CLASS)
    static PciDeviceHandle shared;

    @Test
    void a() throws InterruptedException {
      meet();
    }

    @Test
    void b() throws InterruptedException {
      meet();
    }

    @Test
    void c(@PciDevice(classCode = "010802", scope = Scope.CLASS) PciDeviceHandle same) {
      assertThat(same).isSameAs(shared);
      THREADS.put(Thread.currentThread().getName(), true);
      SEEN.add(same);
    }

    @Test
    void d(@PciDevice(address = "00:05.0", scope = Scope.CLASS) PciDeviceHandle same) {
      assertThat(same).isSameAs(shared);
      THREADS.put(Thread.currentThread().getName(), true);
      SEEN.add(same);
    }

    private static void meet() throws InterruptedException {
      THREADS.put(Thread.currentThread().getName(), true);
      TOGETHER.countDown();
      // Two tests wait for each other: only parallel execution lets both pass.
      assertThat(TOGETHER.await(10, TimeUnit.SECONDS)).isTrue();
      SEEN.add(shared);
    }
  }

  static class FailsMidway {
    @Test
    void test(
        @PciDevice(classCode = "010802") NvmeController nvme,
        @PciDevice(classCode = "010802") NvmeModel model) {
      SEEN.add(model);
      throw new AssertionError("fails with the controller up");
    }
  }
}
