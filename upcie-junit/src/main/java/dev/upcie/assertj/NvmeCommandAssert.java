package dev.upcie.assertj;

import dev.upcie.nvme.driver.NvmeCommandException;
import org.assertj.core.api.Assertions;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * What an NVMe driver call did, {@link UpcieAssertions#assertThatNvmeCommand}: it ran when the
 * assertion was made, and either returned or threw.
 *
 * <pre>{@code
 * assertThatNvmeCommand(() -> io.read(ns, ns.blocks(), 1, buffer, 0))
 *     .failsWithStatus(NvmeStatus.LBA_OUT_OF_RANGE)
 *     .hasDnr();
 * }</pre>
 */
public final class NvmeCommandAssert {
  private final Throwable thrown;

  NvmeCommandAssert(ThrowingCallable command) {
    this.thrown = Assertions.catchThrowable(command);
  }

  /**
   * Verifies that the call failed with {@code status} (type and code, and DNR or More if it carries
   * them), and returns assertions on the failure.
   */
  public NvmeCommandExceptionAssert failsWithStatus(int status) {
    return fails("with " + Described.status(status)).hasStatus(status);
  }

  /** Verifies that the call failed with a status, any status, and returns assertions on it. */
  public NvmeCommandExceptionAssert fails() {
    return fails("with a status");
  }

  /** Verifies that the call returned without throwing. */
  public void succeeds() {
    if (thrown != null) {
      throw new AssertionError(
          "%nExpecting the NVMe command to succeed, but it threw%n  %s".formatted(thrown), thrown);
    }
  }

  private NvmeCommandExceptionAssert fails(String how) {
    if (thrown instanceof NvmeCommandException failure) {
      return new NvmeCommandExceptionAssert(failure);
    }
    if (thrown == null) {
      throw new AssertionError(
          "%nExpecting the NVMe command to fail %s, but it completed successfully".formatted(how));
    }
    throw new AssertionError(
        "%nExpecting the NVMe command to fail %s (an NvmeCommandException), but it threw%n  %s"
            .formatted(how, thrown),
        thrown);
  }
}
