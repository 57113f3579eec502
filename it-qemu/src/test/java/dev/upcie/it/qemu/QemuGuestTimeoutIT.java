package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * A guest that never finishes is killed at the timeout, and the failure shows its console. The
 * timeout is short (the guest reaches its script in about 5 s under TCG), so the proof is cheap.
 */
class QemuGuestTimeoutIT {
  @Test
  void aHungGuestFailsWithinTheTimeoutWithItsConsoleLog() throws Exception {
    QemuGuest guest =
        new QemuGuest(QemuEnvironment.require(), Path.of("target/qemu/hang"))
            .iommu(false)
            .timeout(Duration.ofSeconds(12));
    long start = System.nanoTime();

    assertThatThrownBy(() -> guest.run("echo upcie-hang-test: stuck now; sleep 100000\n"))
        .isInstanceOf(AssertionError.class)
        .hasMessageStartingWith("the QEMU guest did not finish within 12 s and was killed")
        .hasMessageContaining("upcie-hang-test: stuck now");

    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(25));
  }
}
