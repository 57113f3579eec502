package dev.upcie.tools.nvme;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.driver.CompletionHandler;
import dev.upcie.nvme.driver.NvmeCommandException;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.QueuePairOptions;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/**
 * The engine of {@code upcie nvme perf}: one thread, one queue pair of {@code queueDepth + 1}
 * entries, {@code queueDepth} I/Os kept in flight with the driver's asynchronous calls. Each
 * completion is timed, checked and replaced by the next I/O from within the completion handler.
 *
 * <p>Everything is allocated before the clock starts (buffers, the histogram, per-slot state), so
 * the measured loop allocates nothing on success: what it measures is the driver and the device.
 *
 * <p>With {@code verify}, block {@code L} holds, in its 8-byte word {@code w}, {@code L *
 * 0x9E3779B97F4A7C15 + w}: every block is different, and a block that landed at the wrong LBA, or a
 * shifted or torn transfer, does not match.
 */
final class PerfRun implements CompletionHandler {
  /** A seed of our own, so two runs with the same options issue the same I/Os. */
  private static final long SEED = 0x75_70_63_69_65L;

  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  /** Bytes written per synchronous write while filling the region for {@code verify}. */
  private static final long FILL_CHUNK = 1 << 20;

  /** Receives the progress of a run, about once a second. */
  interface Progress {
    /** {@code ios} I/Os completed in {@code elapsedNanos}; {@code lastSecond} in the last one. */
    void update(long ios, long elapsedNanos, long lastSecond);
  }

  private final NvmeController controller;
  private final NvmeNamespace ns;
  private final PerfJob job;
  private final Progress progress;
  private final int blocksPerIo;
  private final long positions;
  private final long blockSize;
  private final int wordsPerBlock;
  private final SplittableRandom random = new SplittableRandom(SEED);
  private final LatencyHistogram latencies = new LatencyHistogram();

  // Per slot (the tag of its I/O): when it was submitted, where, and whether it writes.
  private final long[] submitted;
  private final long[] lba;
  private final boolean[] writing;

  private NvmeQueuePair io;
  private MemorySegment memory;
  private DmaBuffer buffer;
  private long patternOffset;
  private long deadline;
  private long issued;
  private long sequential;
  private long reads;
  private long writes;
  private long errors;
  private long bytes;
  private long verifiedBlocks;
  private long mismatches;
  private long firstBadLba = -1;
  private String firstError;

  PerfRun(NvmeController controller, NvmeNamespace ns, PerfJob job, Progress progress) {
    this.controller = controller;
    this.ns = ns;
    this.job = job;
    this.progress = progress;
    this.blockSize = ns.blockSize();
    this.blocksPerIo = (int) (job.ioBytes() / blockSize);
    this.positions = job.regionBytes() / job.ioBytes();
    this.wordsPerBlock = (int) (blockSize / Long.BYTES);
    this.submitted = new long[job.queueDepth()];
    this.lba = new long[job.queueDepth()];
    this.writing = new boolean[job.queueDepth()];
  }

  /**
   * Fills the region first if verifying, runs the ramp if the job has one, then runs the job.
   *
   * @throws IllegalArgumentException if the controller cannot take the queue depth
   * @throws dev.upcie.nvme.driver.NvmeTimeoutException if I/Os stop completing
   */
  PerfResult run() {
    if (job.verify()) {
      fill();
    }
    if (job.rampNanos() > 0) {
      new PerfRun(controller, ns, job.ramp(job.rampNanos()), null).measure();
    }
    return measure();
  }

  /** Runs the job on a queue pair of its own: sets up, starts the clock, and keeps it busy. */
  PerfResult measure() {
    long slots = job.queueDepth() + 1L; // the last holds what non-verifying writes carry
    QueuePairOptions options = QueuePairOptions.depth(job.queueDepth() + 1);
    try (DmaHeap heap = controller.device().dma().heap(powerOfTwo(slots * job.ioBytes()));
        DmaBuffer slotBuffers = heap.allocate(slots * job.ioBytes(), 4096);
        NvmeQueuePair pair =
            controller.createQueuePair(job.interrupts() ? options.withInterrupts() : options)) {
      this.io = pair;
      this.buffer = slotBuffers;
      this.memory = slotBuffers.segment();
      this.patternOffset = job.queueDepth() * job.ioBytes();
      fillPattern(memory.asSlice(patternOffset, job.ioBytes()));
      return keepBusy();
    }
  }

  private PerfResult keepBusy() {
    long timeout = controller.options().commandTimeout().toNanos();
    long start = System.nanoTime();
    deadline = job.timeLimitNanos() == 0 ? Long.MAX_VALUE : start + job.timeLimitNanos();
    for (int slot = 0; slot < job.queueDepth() && more(start); slot++) {
      submit(slot);
    }
    long nextReport = start + 1_000_000_000L;
    long reportedIos = 0;
    while (io.outstanding() > 0) {
      io.awaitNanos(1, timeout, this);
      if (progress != null) {
        long now = System.nanoTime();
        if (now >= nextReport) {
          long done = reads + writes;
          progress.update(done, now - start, done - reportedIos);
          reportedIos = done;
          nextReport += 1_000_000_000L;
        }
      }
    }
    long elapsed = System.nanoTime() - start;
    return new PerfResult(
        reads + writes,
        reads,
        writes,
        errors,
        bytes,
        elapsed,
        latencies.min(),
        latencies.mean(),
        latencies.percentile(50),
        latencies.percentile(90),
        latencies.percentile(99),
        latencies.percentile(99.9),
        latencies.max(),
        verifiedBlocks,
        mismatches,
        firstBadLba,
        firstError);
  }

  private boolean more(long now) {
    return job.count() == 0 ? now < deadline : issued < job.count();
  }

  private void submit(int slot) {
    boolean write = job.mode().writes() && (!job.mode().reads() || random.nextBoolean());
    long position = job.mode().random() ? random.nextLong(positions) : sequential++ % positions;
    long at = position * blocksPerIo;
    long offset = (long) slot * job.ioBytes();
    lba[slot] = at;
    writing[slot] = write;
    issued++;
    if (write) {
      if (job.verify()) {
        stamp(memory, offset, at, blocksPerIo);
      }
      submitted[slot] = System.nanoTime();
      io.submitWrite(ns, at, blocksPerIo, buffer, job.verify() ? offset : patternOffset, slot);
    } else {
      submitted[slot] = System.nanoTime();
      io.submitRead(ns, at, blocksPerIo, buffer, offset, slot);
    }
  }

  @Override
  public void completed(long tag, int result, NvmeCommandException error) {
    long now = System.nanoTime();
    int slot = (int) tag;
    latencies.record(now - submitted[slot]);
    if (writing[slot]) {
      writes++;
    } else {
      reads++;
    }
    if (error != null) {
      errors++;
      if (firstError == null) {
        firstError = error.getMessage();
      }
    } else {
      bytes += job.ioBytes();
      if (job.verify() && !writing[slot]) {
        check(slot);
      }
    }
    if (more(now)) {
      submit(slot);
    }
  }

  private void check(int slot) {
    long offset = (long) slot * job.ioBytes();
    for (int b = 0; b < blocksPerIo; b++) {
      long block = lba[slot] + b;
      long base = offset + b * blockSize;
      for (int w = 0; w < wordsPerBlock; w++) {
        if (memory.get(ValueLayout.JAVA_LONG, base + (long) w * Long.BYTES) != block * GOLDEN + w) {
          mismatches++;
          if (firstBadLba < 0) {
            firstBadLba = block;
          }
          break;
        }
      }
      verifiedBlocks++;
    }
  }

  /** Writes each block's pattern to the whole region, before the clock starts. */
  void fill() {
    long chunk = Math.min(FILL_CHUNK, job.regionBytes());
    long chunkBlocks = chunk / blockSize;
    long regionBlocks = job.regionBytes() / blockSize;
    try (DmaHeap heap = controller.device().dma().heap(powerOfTwo(chunk));
        DmaBuffer fillBuffer = heap.allocate(chunk, 4096);
        NvmeQueuePair pair = controller.createQueuePair(QueuePairOptions.depth(16))) {
      for (long at = 0; at < regionBlocks; at += chunkBlocks) {
        long blocks = Math.min(chunkBlocks, regionBlocks - at);
        stamp(fillBuffer.segment(), 0, at, blocks);
        pair.write(ns, at, blocks, fillBuffer, 0);
      }
    }
  }

  private void stamp(MemorySegment segment, long offset, long firstLba, long blocks) {
    for (long b = 0; b < blocks; b++) {
      long block = firstLba + b;
      long base = offset + b * blockSize;
      for (int w = 0; w < wordsPerBlock; w++) {
        segment.set(ValueLayout.JAVA_LONG, base + (long) w * Long.BYTES, block * GOLDEN + w);
      }
    }
  }

  private void fillPattern(MemorySegment segment) {
    if (job.pattern() == PerfJob.RANDOM) {
      for (long at = 0; at < segment.byteSize(); at += Long.BYTES) {
        segment.set(ValueLayout.JAVA_LONG, at, random.nextLong());
      }
    } else {
      segment.fill((byte) job.pattern());
    }
  }

  private static long powerOfTwo(long bytes) {
    return Math.max(4096, Long.highestOneBit(bytes - 1) << 1);
  }
}
