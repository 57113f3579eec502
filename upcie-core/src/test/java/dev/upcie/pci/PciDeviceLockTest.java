package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.host.Host;
import dev.upcie.procfs.Procfs;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One holder at a time; a waiter gets the lock when it is let go, or a message naming who has it.
 */
class PciDeviceLockTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");

  private static Host host(Path runtime) {
    return new Host() {
      private final Host system = Host.of(Sysfs.of(runtime), Procfs.system(), Path.of("/dev"));

      @Override
      public Sysfs sysfs() {
        return system.sysfs();
      }

      @Override
      public Procfs procfs() {
        return system.procfs();
      }

      @Override
      public Path dev() {
        return system.dev();
      }

      @Override
      public Path runtimeDirectory() {
        return runtime;
      }
    };
  }

  @Test
  void aWaiterGetsTheLockOnceTheHolderLetsGo(@TempDir Path runtime) throws Exception {
    Host host = host(runtime);
    PciDeviceLock first = PciDeviceLock.acquire(host, NVME, Duration.ofSeconds(1));
    assertThat(Files.readString(first.file())).startsWith(ProcessHandle.current().pid() + " ");

    CompletableFuture<PciDeviceLock> second =
        CompletableFuture.supplyAsync(
            () -> PciDeviceLock.acquire(host, NVME, Duration.ofSeconds(10)));
    assertThat(second).as("held by the first").isNotCompleted();
    first.close();

    try (PciDeviceLock taken = second.get(10, TimeUnit.SECONDS)) {
      assertThat(taken.file()).isEqualTo(first.file());
    }
  }

  @Test
  void aWaiterThatGivesUpSaysWhyAndOtherFunctionsAreFree(@TempDir Path runtime) {
    Host host = host(runtime);
    try (PciDeviceLock held = PciDeviceLock.acquire(host, NVME, Duration.ofSeconds(1));
        PciDeviceLock other =
            PciDeviceLock.acquire(host, PciAddress.parse("00:06.0"), Duration.ofSeconds(1))) {
      assertThat(other.file()).isNotEqualTo(held.file());

      assertThatThrownBy(() -> PciDeviceLock.acquire(host, NVME, Duration.ofMillis(50)))
          .isInstanceOf(PciException.class)
          .hasMessageStartingWith("0000:00:05.0 is still in use by another thread of this process");
    }
  }
}
