package dev.upcie.tools.nvme;

/**
 * Latencies in nanoseconds, counted in log-linear buckets: exact below 128 ns, then 64 buckets per
 * power of two, so a percentile is within 1.6% of the true value. Recording allocates nothing and
 * costs a few instructions; minimum, maximum and mean are exact.
 */
final class LatencyHistogram {
  /** Sub-buckets per power of two, as a power of two. */
  private static final int SUB_BITS = 6;

  private static final int SUB = 1 << SUB_BITS;
  private static final int EXACT = 2 * SUB;

  /** Buckets for every value up to {@code Long.MAX_VALUE}: 62 - SUB_BITS powers of two. */
  private final long[] counts = new long[EXACT + (63 - SUB_BITS - 1) * SUB];

  private long count;
  private long sum;
  private long min = Long.MAX_VALUE;
  private long max;

  /** Counts one latency; a negative one counts as 0. */
  void record(long nanos) {
    long value = Math.max(0, nanos);
    counts[index(value)]++;
    count++;
    sum += value;
    min = Math.min(min, value);
    max = Math.max(max, value);
  }

  /** How many latencies were recorded. */
  long count() {
    return count;
  }

  /** The smallest, or 0 if none. */
  long min() {
    return count == 0 ? 0 : min;
  }

  /** The largest, or 0 if none. */
  long max() {
    return max;
  }

  /** The mean, or 0 if none. */
  double mean() {
    return count == 0 ? 0 : (double) sum / count;
  }

  /**
   * The latency below or at which {@code percent} percent of those recorded lie: the upper end of
   * its bucket, never above {@link #max()}; 0 if none were recorded.
   */
  long percentile(double percent) {
    if (count == 0) {
      return 0;
    }
    long rank = Math.max(1, (long) Math.ceil(percent / 100 * count));
    long seen = 0;
    for (int i = 0; i < counts.length; i++) {
      seen += counts[i];
      if (seen >= rank) {
        return Math.min(max, Math.max(min, upperBound(i)));
      }
    }
    return max;
  }

  static int index(long value) {
    if (value < EXACT) {
      return (int) value;
    }
    int exponent = 63 - Long.numberOfLeadingZeros(value); // at least SUB_BITS + 1
    int shift = exponent - SUB_BITS;
    int mantissa = (int) (value >>> shift); // SUB to 2 * SUB - 1
    return EXACT + (exponent - SUB_BITS - 1) * SUB + (mantissa - SUB);
  }

  /** The largest value bucket {@code index} holds. */
  static long upperBound(int index) {
    if (index < EXACT) {
      return index;
    }
    int exponent = (index - EXACT) / SUB + SUB_BITS + 1;
    long mantissa = (index - EXACT) % SUB + SUB;
    int shift = exponent - SUB_BITS;
    long upper = ((mantissa + 1) << shift) - 1;
    return upper < 0 ? Long.MAX_VALUE : upper; // the top bucket ends at 2^63 - 1
  }
}
