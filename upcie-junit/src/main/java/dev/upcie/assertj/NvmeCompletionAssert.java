package dev.upcie.assertj;

import dev.upcie.nvme.NvmeCompletion;
import dev.upcie.nvme.NvmeStatus;
import org.assertj.core.api.AbstractAssert;

/**
 * Assertions on a raw completion queue entry, {@link UpcieAssertions#assertThat(NvmeCompletion)}.
 * Statuses are compared and printed by the specification's names, with their codes in hexadecimal.
 *
 * <pre>{@code
 * assertThat(NvmeCompletion.read(cq, 0))
 *     .hasCommandId(cid)
 *     .hasStatus(NvmeStatus.INVALID_FIELD)
 *     .hasDnr();
 * }</pre>
 */
public final class NvmeCompletionAssert
    extends AbstractAssert<NvmeCompletionAssert, NvmeCompletion> {

  NvmeCompletionAssert(NvmeCompletion actual) {
    super(actual, NvmeCompletionAssert.class);
  }

  /** Verifies that the command succeeded: status code type and code 0. */
  public NvmeCompletionAssert isSuccessful() {
    isNotNull();
    if (!actual.isSuccessful()) {
      failWithMessage(
          "%nExpecting%n  %s%nto be successful, but its status was%n  %s",
          actual, Described.status(actual.status()));
    }
    return myself;
  }

  /**
   * Verifies the status: the same status code type and code as {@code expected} (an {@link
   * NvmeStatus} constant), and DNR or More if {@code expected} carries them.
   */
  public NvmeCompletionAssert hasStatus(int expected) {
    isNotNull();
    if (Described.statusDiffers(actual.status(), expected)) {
      failWithActualExpectedAndMessage(
          Described.status(actual.status()),
          Described.status(expected),
          "%nExpecting%n  %s%nto have status%n  %s%nbut it had%n  %s",
          actual,
          Described.status(expected),
          Described.status(actual.status()));
    }
    return myself;
  }

  /** Verifies the status code type: 0 generic, 1 command specific, 2 media and data integrity. */
  public NvmeCompletionAssert hasStatusCodeType(int expected) {
    isNotNull();
    if (actual.statusCodeType() != expected) {
      failWithMessage(
          "%nExpecting%n  %s%nto have status code type %s, but it had %s",
          actual, expected, actual.statusCodeType());
    }
    return myself;
  }

  /** Verifies that Do Not Retry is set. */
  public NvmeCompletionAssert hasDnr() {
    return flag(actual != null && actual.doNotRetry(), "to have Do Not Retry set");
  }

  /** Verifies that Do Not Retry is clear: the command may succeed if retried. */
  public NvmeCompletionAssert doesNotHaveDnr() {
    return flag(actual != null && !actual.doNotRetry(), "not to have Do Not Retry set");
  }

  /** Verifies that More is set: the Error Information log page has more. */
  public NvmeCompletionAssert hasMore() {
    return flag(actual != null && actual.more(), "to have More set");
  }

  /** Verifies the command identifier. */
  public NvmeCompletionAssert hasCommandId(int expected) {
    return number("command id", actual == null ? 0 : actual.commandId(), expected);
  }

  /** Verifies the submission queue identifier. */
  public NvmeCompletionAssert hasSqId(int expected) {
    return number("submission queue id", actual == null ? 0 : actual.sqId(), expected);
  }

  /** Verifies the submission queue head pointer. */
  public NvmeCompletionAssert hasSqHead(int expected) {
    return number("submission queue head", actual == null ? 0 : actual.sqHead(), expected);
  }

  /** Verifies command-specific dword 0. */
  public NvmeCompletionAssert hasDw0(int expected) {
    isNotNull();
    if (actual.dw0() != expected) {
      failWithActualExpectedAndMessage(
          actual.dw0(),
          expected,
          "%nExpecting%n  %s%nto have dw0 0x%s, but it had 0x%s",
          actual,
          Integer.toHexString(expected),
          Integer.toHexString(actual.dw0()));
    }
    return myself;
  }

  /** Verifies the phase tag. */
  public NvmeCompletionAssert hasPhase(boolean expected) {
    isNotNull();
    if (actual.phase() != expected) {
      failWithMessage(
          "%nExpecting%n  %s%nto have phase tag %s: it is not the entry expected (an old one, or"
              + " one the controller has not written yet)",
          actual, expected ? 1 : 0);
    }
    return myself;
  }

  private NvmeCompletionAssert flag(boolean holds, String what) {
    isNotNull();
    if (!holds) {
      failWithMessage("%nExpecting%n  %s%n%s", actual, what);
    }
    return myself;
  }

  private NvmeCompletionAssert number(String what, int actualValue, int expected) {
    isNotNull();
    if (actualValue != expected) {
      failWithActualExpectedAndMessage(
          actualValue,
          expected,
          "%nExpecting%n  %s%nto have %s %s, but it had %s",
          actual,
          what,
          expected,
          actualValue);
    }
    return myself;
  }
}
