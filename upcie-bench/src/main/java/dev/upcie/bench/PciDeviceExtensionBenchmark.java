package dev.upcie.bench;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import dev.upcie.junit.PciDevice;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.pci.PciDeviceHandle;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What the {@link PciDevice} extension costs per test on the simulator: a class of {@value #TESTS}
 * trivial tests run through the JUnit Platform launcher in this JVM, discovery included, reported
 * per test. The goal is at most 2 ms per test over the same tests without a device.
 *
 * <ul>
 *   <li>{@code none}: no device, the baseline (JUnit's own discovery and execution);
 *   <li>{@code fresh}: each test takes a {@code PciDeviceHandle} of scope {@code TEST}, so each
 *       gets a fresh simulated machine, opened before it and closed after;
 *   <li>{@code shared}: the same with scope {@code CLASS}: one machine for the class;
 *   <li>{@code nvme}: each test takes an {@code NvmeController} of scope {@code TEST}: a fresh
 *       machine and the driver's bring-up and shutdown.
 * </ul>
 *
 * <p>A variant's overhead per test is its score minus {@code none}'s. Every run checks that all
 * {@value #TESTS} tests passed, so a skipped or failing test cannot pass for a fast one.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@OperationsPerInvocation(PciDeviceExtensionBenchmark.TESTS)
// The fresh-machine classes need about 50 s of tests before the JIT settles, on a quiet machine,
// and one 4 s iteration varies by a third on a shared one: 15 of them make a mean worth quoting.
@Warmup(iterations = 15, time = 4)
@Measurement(iterations = 15, time = 4)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class PciDeviceExtensionBenchmark {
  /** Tests per class, and so per benchmark call. */
  static final int TESTS = 50;

  @Param({"none", "fresh", "shared", "nvme"})
  String device;

  private Launcher launcher;
  private LauncherDiscoveryRequest request;

  /** One launcher for the trial; each call discovers and runs the class anew, as a build does. */
  @Setup(Level.Trial)
  public void launcher() {
    Class<?> tests =
        switch (device) {
          case "none" -> NoDevice.class;
          case "fresh" -> FreshDevice.class;
          case "shared" -> SharedDevice.class;
          case "nvme" -> FreshNvme.class;
          default -> throw new IllegalArgumentException("no test class for device=" + device);
        };
    launcher = LauncherFactory.create();
    request =
        LauncherDiscoveryRequestBuilder.request()
            .selectors(selectClass(tests))
            // Pinned: a run with UPCIE_BACKEND set must not measure another backend.
            .configurationParameter("upcie.backend", "sim")
            .build();
  }

  /** Discovers and runs the class; fails unless every test passed. */
  @Benchmark
  public long runClass() {
    SummaryGeneratingListener listener = new SummaryGeneratingListener();
    launcher.execute(request, listener);
    TestExecutionSummary summary = listener.getSummary();
    if (summary.getTestsSucceededCount() != TESTS) {
      StringWriter failures = new StringWriter();
      summary.printFailuresTo(new PrintWriter(failures), 20);
      throw new IllegalStateException(
          "device="
              + device
              + ": "
              + summary.getTestsSucceededCount()
              + " of "
              + TESTS
              + " tests passed ("
              + summary.getTestsSkippedCount()
              + " skipped, "
              + summary.getTestsAbortedCount()
              + " aborted, "
              + summary.getTestsFailedCount()
              + " failed); the extension or simulator is broken, run upcie-junit's tests:\n"
              + failures);
    }
    return summary.getTimeFinished();
  }

  /** The baseline: trivial tests, no device. */
  static class NoDevice {
    @RepeatedTest(TESTS)
    void test() {
      assertNotNull(this);
    }
  }

  /** A fresh simulated machine per test, and its NVMe controller's handle. */
  static class FreshDevice {
    @RepeatedTest(TESTS)
    void test(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
      assertNotNull(nvme);
    }
  }

  /** One simulated machine for the class, its NVMe controller's handle shared by every test. */
  static class SharedDevice {
    @RepeatedTest(TESTS)
    void test(
        @PciDevice(classCode = "010802", scope = PciDevice.Scope.CLASS) PciDeviceHandle nvme) {
      assertNotNull(nvme);
    }
  }

  /** A fresh simulated machine per test, its NVMe controller brought up by the driver. */
  static class FreshNvme {
    @RepeatedTest(TESTS)
    void test(@PciDevice(classCode = "010802") NvmeController nvme) {
      assertNotNull(nvme);
    }
  }
}
