package dev.upcie.tools.nvme;

import java.util.Locale;

/**
 * What {@code upcie nvme perf} runs: which I/O, how large, how many at once, where, for how long.
 *
 * @param mode the access pattern
 * @param ioBytes bytes per I/O, whole blocks of the namespace
 * @param queueDepth I/Os kept in flight
 * @param regionBytes the I/Os fall in the first this many bytes of the namespace
 * @param timeLimitNanos run this long; 0 when {@code count} limits the run instead
 * @param count run this many I/Os; 0 when the time limits the run instead
 * @param pattern the byte writes carry, 0 to 255; {@link #RANDOM} for a buffer of random bytes
 * @param verify true to fill the region with a pattern of each block's LBA first, write that
 *     pattern, and check every block read against it
 * @param interrupts true to wait for completions on an interrupt instead of polling
 * @param rampNanos run the load this long first without measuring it (fio's ramp_time); 0 for none
 */
record PerfJob(
    Mode mode,
    long ioBytes,
    int queueDepth,
    long regionBytes,
    long timeLimitNanos,
    long count,
    int pattern,
    boolean verify,
    boolean interrupts,
    long rampNanos) {

  /** {@link #pattern()}: a buffer of random bytes, made once. */
  static final int RANDOM = -1;

  /** The access patterns, as fio names them. */
  enum Mode {
    RANDREAD(true, false, true),
    RANDWRITE(false, true, true),
    READ(true, false, false),
    WRITE(false, true, false),
    RANDRW(true, true, true);

    private final boolean reads;
    private final boolean writes;
    private final boolean random;

    Mode(boolean reads, boolean writes, boolean random) {
      this.reads = reads;
      this.writes = writes;
      this.random = random;
    }

    /** True if it reads. */
    boolean reads() {
      return reads;
    }

    /** True if it writes. */
    boolean writes() {
      return writes;
    }

    /** True for random offsets, false for sequential ones that wrap around the region. */
    boolean random() {
      return random;
    }

    /** The name fio and the command line use: {@code randread}. */
    @Override
    public String toString() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The same load for {@code nanos}, unmeasured and unverified: the ramp before this one. */
  PerfJob ramp(long nanos) {
    return new PerfJob(
        mode, ioBytes, queueDepth, regionBytes, nanos, 0, pattern, false, interrupts, 0);
  }

  /** {@code random} or {@code 0xa5}, as {@code --pattern} takes it. */
  String patternName() {
    return pattern == RANDOM ? "random" : String.format("0x%02x", pattern);
  }
}
