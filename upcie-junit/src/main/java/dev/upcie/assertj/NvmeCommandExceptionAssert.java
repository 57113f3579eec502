package dev.upcie.assertj;

import dev.upcie.nvme.NvmeStatus;
import dev.upcie.nvme.driver.NvmeCommandException;
import org.assertj.core.api.AbstractThrowableAssert;

/**
 * Assertions on a command the driver reported failed, {@link
 * UpcieAssertions#assertThat(NvmeCommandException)}; AssertJ's throwable assertions too ({@code
 * hasMessageContaining}, ...). Statuses are compared and printed by the specification's names, with
 * their codes in hexadecimal.
 *
 * <pre>{@code
 * assertThat(exception).hasStatus(NvmeStatus.LBA_OUT_OF_RANGE).hasDnr().hasQueueId(1);
 * }</pre>
 */
public final class NvmeCommandExceptionAssert
    extends AbstractThrowableAssert<NvmeCommandExceptionAssert, NvmeCommandException> {

  NvmeCommandExceptionAssert(NvmeCommandException actual) {
    super(actual, NvmeCommandExceptionAssert.class);
  }

  /**
   * Verifies the status: the same status code type and code as {@code expected} (an {@link
   * NvmeStatus} constant), and DNR or More if {@code expected} carries them.
   */
  public NvmeCommandExceptionAssert hasStatus(int expected) {
    isNotNull();
    if (Described.statusDiffers(actual.status(), expected)) {
      failWithActualExpectedAndMessage(
          Described.status(actual.status()),
          Described.status(expected),
          "%nExpecting%n  %s%nto have failed with status%n  %s%nbut it failed with%n  %s",
          command(),
          Described.status(expected),
          Described.status(actual.status()));
    }
    return myself;
  }

  /** Verifies the status code type: 0 generic, 1 command specific, 2 media and data integrity. */
  public NvmeCommandExceptionAssert hasStatusCodeType(int expected) {
    isNotNull();
    if (actual.statusCodeType() != expected) {
      failWithMessage(
          "%nExpecting%n  %s%nto have failed with status code type %s, but its status was%n  %s",
          command(), expected, Described.status(actual.status()));
    }
    return myself;
  }

  /** Verifies that Do Not Retry is set: the same command would fail again. */
  public NvmeCommandExceptionAssert hasDnr() {
    isNotNull();
    if (!actual.doNotRetry()) {
      failWithMessage(
          "%nExpecting%n  %s%nto have failed with Do Not Retry set, but its status was%n  %s",
          command(), Described.status(actual.status()));
    }
    return myself;
  }

  /** Verifies that Do Not Retry is clear: the command may succeed if retried. */
  public NvmeCommandExceptionAssert doesNotHaveDnr() {
    isNotNull();
    if (actual.doNotRetry()) {
      failWithMessage(
          "%nExpecting%n  %s%nto have failed without Do Not Retry, but its status was%n  %s",
          command(), Described.status(actual.status()));
    }
    return myself;
  }

  /** Verifies the submission queue the command ran on; 0 is the admin queue. */
  public NvmeCommandExceptionAssert hasQueueId(int expected) {
    isNotNull();
    if (actual.queueId() != expected) {
      failWithActualExpectedAndMessage(
          actual.queueId(),
          expected,
          "%nExpecting%n  %s%nto have run on queue %s, but it ran on queue %s",
          actual.command(),
          expected,
          actual.queueId());
    }
    return myself;
  }

  // "Read (nsid 1, slba 0x20, 16 blocks) on queue 1"
  private String command() {
    return actual.command() + " on queue " + actual.queueId();
  }
}
