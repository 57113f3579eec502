package dev.upcie.nvme.driver;

import dev.upcie.support.WaitClock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@link NvmeController#open} brings a controller up. Immutable; {@link #defaults()} suits most
 * uses, and {@link #builder()} changes what it must.
 *
 * <pre>{@code
 * NvmeControllerOptions options =
 *     NvmeControllerOptions.builder().ioQueuePairs(4).commandTimeout(Duration.ofSeconds(5)).build();
 * }</pre>
 *
 * @param adminQueueDepth entries of the admin submission and completion queues (2 to 4096, and at
 *     most CAP.MQES + 1): 32, as libvfn
 * @param ioQueuePairs I/O queue pairs to ask for with Set Features (Number of Queues): 8; the
 *     controller may grant fewer
 * @param commandTimeout how long a command may take before {@link NvmeTimeoutException}: 30 s
 * @param readyTimeout how long CSTS.RDY and CSTS.SHST may take to change; empty means what CAP.TO
 *     says (QEMU's 7.5 s)
 * @param maxTransferBytes the largest transfer per command, below the controller's MDTS: 2 MiB. It
 *     sizes each command's PRP list, and larger synchronous transfers are split
 * @param clock the time waits are measured by: the system's, or a simulator's virtual time
 * @param historySize how many of the most recent commands {@link NvmeController#history()} keeps,
 *     across all queues: 64; 0 keeps none (and records nothing), at most 65536
 */
public record NvmeControllerOptions(
    int adminQueueDepth,
    int ioQueuePairs,
    Duration commandTimeout,
    Optional<Duration> readyTimeout,
    long maxTransferBytes,
    WaitClock clock,
    int historySize) {

  /** The most commands the history may keep. */
  public static final int MAX_HISTORY_SIZE = 1 << 16;

  /** Checks the values. */
  public NvmeControllerOptions {
    if (adminQueueDepth < 2 || adminQueueDepth > 4096) {
      throw new IllegalArgumentException(
          "adminQueueDepth must be 2 to 4096 entries, not " + adminQueueDepth);
    }
    if (ioQueuePairs < 1 || ioQueuePairs > 65535) {
      throw new IllegalArgumentException("ioQueuePairs must be 1 to 65535, not " + ioQueuePairs);
    }
    positive("commandTimeout", commandTimeout);
    Objects.requireNonNull(readyTimeout, "readyTimeout")
        .ifPresent(t -> positive("readyTimeout", t));
    if (maxTransferBytes < QueueRing.PAGE || Long.bitCount(maxTransferBytes) != 1) {
      throw new IllegalArgumentException(
          "maxTransferBytes must be a power of two of at least 4096, not " + maxTransferBytes);
    }
    Objects.requireNonNull(clock, "clock");
    if (historySize < 0 || historySize > MAX_HISTORY_SIZE) {
      throw new IllegalArgumentException(
          "historySize must be 0 (none) to " + MAX_HISTORY_SIZE + " commands, not " + historySize);
    }
  }

  private static void positive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(name + " must be positive, not " + value);
    }
  }

  /** The defaults given above. */
  public static NvmeControllerOptions defaults() {
    return builder().build();
  }

  /** A builder starting from the defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder starting from these options. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.adminQueueDepth = adminQueueDepth;
    b.ioQueuePairs = ioQueuePairs;
    b.commandTimeout = commandTimeout;
    b.readyTimeout = readyTimeout.orElse(null);
    b.maxTransferBytes = maxTransferBytes;
    b.clock = clock;
    b.historySize = historySize;
    return b;
  }

  /** Builds {@link NvmeControllerOptions}; values are checked by {@link #build()}. */
  public static final class Builder {
    private int adminQueueDepth = 32;
    private int ioQueuePairs = 8;
    private Duration commandTimeout = Duration.ofSeconds(30);
    private Duration readyTimeout;
    private long maxTransferBytes = 2L << 20;
    private WaitClock clock = WaitClock.system();
    private int historySize = 64;

    private Builder() {}

    /** Admin queue entries. */
    public Builder adminQueueDepth(int entries) {
      this.adminQueueDepth = entries;
      return this;
    }

    /** I/O queue pairs to ask for. */
    public Builder ioQueuePairs(int count) {
      this.ioQueuePairs = count;
      return this;
    }

    /** How long a command may take. */
    public Builder commandTimeout(Duration timeout) {
      this.commandTimeout = timeout;
      return this;
    }

    /** How long readiness and shutdown may take, instead of CAP.TO's. */
    public Builder readyTimeout(Duration timeout) {
      this.readyTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    /** The largest transfer per command (a power of two). */
    public Builder maxTransferBytes(long bytes) {
      this.maxTransferBytes = bytes;
      return this;
    }

    /** The clock waits are measured by. */
    public Builder clock(WaitClock clock) {
      this.clock = clock;
      return this;
    }

    /** How many recent commands the history keeps; 0 for none. */
    public Builder historySize(int commands) {
      this.historySize = commands;
      return this;
    }

    /** The options. */
    public NvmeControllerOptions build() {
      return new NvmeControllerOptions(
          adminQueueDepth,
          ioQueuePairs,
          commandTimeout,
          Optional.ofNullable(readyTimeout),
          maxTransferBytes,
          clock,
          historySize);
    }
  }
}
