package dev.upcie.tools.nvme;

/**
 * What a run of {@code upcie nvme perf} measured. Latencies are from submission to the reaping of
 * the completion, in nanoseconds.
 *
 * @param ios I/Os completed, failed ones included
 * @param reads reads completed
 * @param writes writes completed
 * @param errors I/Os the controller failed
 * @param bytes bytes moved by the I/Os that succeeded
 * @param elapsedNanos from the first submission to the last completion
 * @param latencyMin the shortest latency
 * @param latencyMean the mean latency
 * @param p50 the median latency
 * @param p90 the 90th percentile
 * @param p99 the 99th percentile
 * @param p999 the 99.9th percentile
 * @param latencyMax the longest latency
 * @param verifiedBlocks blocks read and checked against the pattern ({@code --verify})
 * @param mismatches blocks that did not hold the pattern
 * @param firstBadLba the LBA of the first mismatching block found, or -1
 * @param firstError the first failed I/O's message, or null
 */
record PerfResult(
    long ios,
    long reads,
    long writes,
    long errors,
    long bytes,
    long elapsedNanos,
    long latencyMin,
    double latencyMean,
    long p50,
    long p90,
    long p99,
    long p999,
    long latencyMax,
    long verifiedBlocks,
    long mismatches,
    long firstBadLba,
    String firstError) {

  /** I/Os per second. */
  double iops() {
    return elapsedNanos == 0 ? 0 : ios * 1e9 / elapsedNanos;
  }

  /** Mebibytes (2^20 bytes) per second. */
  double mibPerSecond() {
    return elapsedNanos == 0 ? 0 : bytes * 1e9 / elapsedNanos / (1 << 20);
  }
}
