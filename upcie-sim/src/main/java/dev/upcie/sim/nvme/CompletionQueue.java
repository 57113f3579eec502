package dev.upcie.sim.nvme;

/**
 * A completion queue as the controller sees it, with the completions waiting to be posted (QEMU's
 * {@code req_list}): they wait while the queue is full, in order, and are posted when the host
 * frees entries. The waiting list is sized by the submission queues attached, so nothing is
 * allocated per command.
 */
final class CompletionQueue {
  final int id;
  final long address;
  final int size;
  final boolean interruptsEnabled;
  final int vector;
  int head;
  int tail;
  boolean phase = true;
  int attachedQueues;
  final QueueTrace trace;
  long shadowDoorbell;
  long eventIndex;
  // The waiting completions, a ring.
  private int[] commandIds = new int[0];
  private int[] statuses = new int[0];
  private int[] results = new int[0];
  private SubmissionQueue[] sources = new SubmissionQueue[0];
  private int first;
  private int waiting;

  CompletionQueue(int id, long address, int size, boolean interruptsEnabled, int vector) {
    this.id = id;
    this.address = address;
    this.size = size;
    this.interruptsEnabled = interruptsEnabled;
    this.vector = vector;
    this.trace = QueueTrace.completions(id);
  }

  boolean full() {
    return (tail + 1) % size == head;
  }

  /** Makes room for {@code entries} more waiting completions: a new queue was attached. */
  void reserve(int entries) {
    int capacity = commandIds.length + entries;
    int[] ids = new int[capacity];
    int[] st = new int[capacity];
    int[] res = new int[capacity];
    SubmissionQueue[] src = new SubmissionQueue[capacity];
    for (int i = 0; i < waiting; i++) {
      int from = (first + i) % commandIds.length;
      ids[i] = commandIds[from];
      st[i] = statuses[from];
      res[i] = results[from];
      src[i] = sources[from];
    }
    commandIds = ids;
    statuses = st;
    results = res;
    sources = src;
    first = 0;
  }

  void enqueue(SubmissionQueue sq, int commandId, int status, int result) {
    int at = (first + waiting) % commandIds.length;
    commandIds[at] = commandId;
    statuses[at] = status;
    results[at] = result;
    sources[at] = sq;
    waiting++;
  }

  int waiting() {
    return waiting;
  }

  int firstCommandId() {
    return commandIds[first];
  }

  int firstStatus() {
    return statuses[first];
  }

  int firstResult() {
    return results[first];
  }

  SubmissionQueue firstSource() {
    return sources[first];
  }

  void dropFirst() {
    sources[first] = null;
    first = (first + 1) % commandIds.length;
    waiting--;
  }

  /** Forgets the waiting completions of {@code sq}, which is being deleted. */
  void forget(SubmissionQueue sq) {
    int kept = 0;
    for (int i = 0; i < waiting; i++) {
      int from = (first + i) % commandIds.length;
      if (sources[from] != sq) {
        int to = (first + kept) % commandIds.length;
        commandIds[to] = commandIds[from];
        statuses[to] = statuses[from];
        results[to] = results[from];
        sources[to] = sources[from];
        kept++;
      }
    }
    for (int i = kept; i < waiting; i++) {
      sources[(first + i) % commandIds.length] = null;
    }
    waiting = kept;
  }

  void advanceTail() {
    tail++;
    if (tail >= size) {
      tail = 0;
      phase = !phase;
    }
  }
}
