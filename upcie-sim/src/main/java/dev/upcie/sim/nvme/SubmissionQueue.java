package dev.upcie.sim.nvme;

/**
 * A submission queue as the controller sees it: where it is, its head and tail, and how many of its
 * entries' requests are free. As in QEMU, a queue of N entries has N requests; one is taken when a
 * command is fetched and given back when its completion is posted, so a queue whose completions
 * cannot be posted (a full completion queue) stops being fetched from.
 */
final class SubmissionQueue {
  final int id;
  final long address;
  final int size;
  final CompletionQueue cq;
  int head;
  int tail;
  int freeRequests;
  final QueueTrace trace;
  // Shadow doorbell and event index addresses, once Doorbell Buffer Config set them; 0 if not.
  long shadowDoorbell;
  long eventIndex;

  SubmissionQueue(int id, long address, int size, CompletionQueue cq) {
    this.id = id;
    this.address = address;
    this.size = size;
    this.cq = cq;
    this.freeRequests = size;
    this.trace = QueueTrace.submissions(id);
  }

  boolean empty() {
    return head == tail;
  }
}
