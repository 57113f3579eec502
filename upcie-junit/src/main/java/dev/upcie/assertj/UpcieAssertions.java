package dev.upcie.assertj;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.nvme.NvmeCompletion;
import dev.upcie.nvme.driver.NvmeCommandException;
import dev.upcie.register.RegisterValue;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * AssertJ assertions for device tests: registers and their fields, NVMe completions and statuses,
 * and DMA memory. Failure messages say what a driver author needs at a glance: register and field
 * names, values in hexadecimal with their fields decoded, statuses by the specification's names,
 * and a hex dump where memory differs.
 *
 * <pre>{@code
 * import static dev.upcie.assertj.UpcieAssertions.assertThat;
 * import static dev.upcie.assertj.UpcieAssertions.assertThatNvmeCommand;
 * import static org.assertj.core.api.Assertions.assertThat; // both may be imported
 *
 * assertThat(bar0.readValue(NvmeRegisters.CSTS)).field(NvmeRegisters.CSTS_RDY).isEqualTo(1);
 * assertThat(bar0.readValue(NvmeRegisters.CC)).hasField(NvmeRegisters.CC_IOSQES, 6);
 *
 * assertThatNvmeCommand(() -> io.read(ns, ns.blocks(), 1, buffer, 0))
 *     .failsWithStatus(NvmeStatus.LBA_OUT_OF_RANGE)
 *     .hasDnr();
 * assertThat(NvmeCompletion.read(cq, 0)).hasCommandId(1).isSuccessful();
 *
 * assertThat(buffer).hasSameContentAs(written);
 * assertThat(buffer).containsAt(512, (byte) 0xde, (byte) 0xad).isFilledWith((byte) 0, 514, 510);
 * }</pre>
 *
 * <p>Needs AssertJ 3.27 or later on the test path; upcie-junit does not bring it (its dependency is
 * {@code provided}).
 */
public final class UpcieAssertions {
  private UpcieAssertions() {}

  /** Assertions on a register read: {@code assertThat(bar0.readValue(CSTS)).field(RDY)...}. */
  public static RegisterValueAssert assertThat(RegisterValue actual) {
    return new RegisterValueAssert(actual);
  }

  /** Assertions on a raw completion queue entry. */
  public static NvmeCompletionAssert assertThat(NvmeCompletion actual) {
    return new NvmeCompletionAssert(actual);
  }

  /** Assertions on a command the driver reported failed, its status first. */
  public static NvmeCommandExceptionAssert assertThat(NvmeCommandException actual) {
    return new NvmeCommandExceptionAssert(actual);
  }

  /** Assertions on the contents of DMA memory. */
  public static DmaBufferAssert assertThat(DmaBuffer actual) {
    return new DmaBufferAssert(actual);
  }

  /**
   * Runs {@code command}, a call into the NVMe driver, now; the result says whether it failed, and
   * with which status: {@code assertThatNvmeCommand(() -> ...).failsWithStatus(...)}.
   */
  public static NvmeCommandAssert assertThatNvmeCommand(ThrowingCallable command) {
    return new NvmeCommandAssert(command);
  }
}
