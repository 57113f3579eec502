package dev.upcie.nvme.driver;

/**
 * How {@link NvmeController#createQueuePair} makes an I/O queue pair.
 *
 * <pre>{@code
 * NvmeQueuePair io = controller.createQueuePair(QueuePairOptions.depth(64).withInterrupts());
 * }</pre>
 *
 * @param depth entries of the submission and completion queues, 2 to CAP.MQES + 1; {@code depth -
 *     1} commands may be outstanding at once
 * @param interrupts true to wait for completions on an interrupt (MSI-X where the function has it,
 *     else MSI or INTx), false to poll
 * @param shared true to allocate the queue pair's memory for any thread, so it may be handed to
 *     another thread (one at a time); false to confine it to the thread that creates it, which
 *     makes closing it cheaper
 */
public record QueuePairOptions(int depth, boolean interrupts, boolean shared) {

  /** 128 entries, polled, confined to the creating thread. */
  public static final QueuePairOptions DEFAULT = new QueuePairOptions(128, false, false);

  /** Checks the depth. */
  public QueuePairOptions {
    if (depth < 2 || depth > 65536) {
      throw new IllegalArgumentException("a queue pair has 2 to 65536 entries, not " + depth);
    }
  }

  /** Polled and confined, with {@code depth} entries. */
  public static QueuePairOptions depth(int depth) {
    return new QueuePairOptions(depth, false, false);
  }

  /** These options, completed by interrupt. */
  public QueuePairOptions withInterrupts() {
    return new QueuePairOptions(depth, true, shared);
  }

  /** These options, with memory any thread may use. */
  public QueuePairOptions withSharedMemory() {
    return new QueuePairOptions(depth, interrupts, true);
  }
}
