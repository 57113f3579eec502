package dev.upcie.sim.nvme;

import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeCompletionDescriptor;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.sim.mmio.RegisterFile;
import dev.upcie.sim.model.DeviceDma;
import dev.upcie.sim.model.ModelContext;
import dev.upcie.sim.trace.TraceEvent;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The queues and the command engine of the simulated controller, following QEMU 7.2's {@code
 * hw/nvme/ctrl.c}: doorbells, fetching commands, posting completions with phase tags and the SQ
 * head, holding completions while a completion queue is full, interrupts per completion queue, and
 * asynchronous events. Commands run on the thread that rings the doorbell, so a completion is in
 * memory when the doorbell write returns (QEMU posts it a moment later, from its main loop).
 *
 * <p>Everything is guarded by this object's lock. Nothing is allocated per command.
 */
final class Controller {
  /** A command that completes later (an Asynchronous Event Request) or never. */
  static final int NO_COMPLETION = -1;

  final NvmeOptions options;
  private final long dmrsl;
  final RegisterFile bar0;
  final Namespace[] namespaces = new Namespace[IdentifyData.MAX_NAMESPACES + 1];
  final SubmissionQueue[] sqs;
  final CompletionQueue[] cqs;
  final byte[] identifyController;
  final DataPointer data;
  // One command at a time: the fetched entry, and scratch for data the controller transfers.
  final MemorySegment command;
  private final MemorySegment completion;
  final MemorySegment scratch;
  final Features features = new Features();
  private final AdminCommands admin;
  private final NvmCommands nvm;
  ModelContext context;
  NvmeFaults faults;
  // Completion jitter: null when off (QEMU's behaviour).
  private final java.util.SplittableRandom jitter;
  private final long maxJitterNanos;
  // Bumped by every reset, so a delayed completion from before it is dropped.
  private long generation;
  // Namespaces removed since the host last read the Changed Namespace List log.
  private final boolean[] changedNamespaces = new boolean[IdentifyData.MAX_NAMESPACES + 1];

  /** The result (completion dword 0) of the command being executed. */
  int result;

  int pageSize = 4096;

  /** CC.CSS as the controller was enabled with: 0 NVM, 6 all I/O command sets, 7 admin only. */
  int commandSet;

  /** When the controller was attached: the SMART log's power-on time counts from here. */
  long startNanos;

  boolean queuesCreated;
  // Interrupt state for INTx: a bit per vector with completions, and how many queues have any.
  private int irqStatus;
  private int pendingQueues;
  // Asynchronous events: outstanding requests (command ids) and queued events.
  private final int[] aerCommandIds;
  private int outstandingAers;
  private final int[] events = new int[64];
  private int queuedEvents;
  int aerMask;
  // Doorbell Buffer Config.
  private boolean shadowDoorbells;
  private long shadowBase;
  private long eventIndexBase;

  Controller(NvmeOptions options, RegisterFile bar0, int vendor, int subsystemVendor) {
    this.maxJitterNanos = options.completionJitter().toNanos();
    this.jitter = maxJitterNanos > 0 ? new java.util.SplittableRandom(options.seed()) : null;
    this.options = options;
    this.bar0 = bar0;
    this.sqs = new SubmissionQueue[options.maxIoQueuePairs() + 1];
    this.cqs = new CompletionQueue[options.maxIoQueuePairs() + 1];
    this.identifyController = IdentifyData.controller(options, vendor, subsystemVendor);
    long limit = 0;
    for (NamespaceOptions ns : options.namespaces()) {
      namespaces[ns.nsid()] = new Namespace(ns);
      long blocks = IdentifyData.BLOCK_REQUEST_MAX_BYTES / ns.blockSize();
      limit = limit == 0 ? blocks : Math.min(limit, blocks);
    }
    this.dmrsl = limit;
    Arena arena = Arena.ofAuto();
    this.command = arena.allocate(NvmeCommandDescriptor.SIZE, 8);
    this.completion = arena.allocate(NvmeCompletionDescriptor.SIZE, 8);
    this.scratch = arena.allocate(IdentifyData.SIZE, 4096);
    this.data = new DataPointer(arena, 64 * 1024);
    this.aerCommandIds = new int[options.aerl() + 2];
    this.admin = new AdminCommands(this);
    this.nvm = new NvmCommands(this);
  }

  DeviceDma dma() {
    return context.dma();
  }

  // ---- Controller enable, reset, fatal status ----

  /** QEMU's {@code nvme_start_ctrl} after its checks: the admin queues and the page size. */
  synchronized void start(long cc, long aqa, long asq, long acq) {
    pageSize = 1 << (12 + NvmeRegisters.CC_MPS.get(cc));
    CompletionQueue acqueue =
        new CompletionQueue(0, acq, (int) NvmeRegisters.AQA_ACQS.get(aqa) + 1, true, 0);
    cqs[0] = acqueue;
    attach(new SubmissionQueue(0, asq, (int) NvmeRegisters.AQA_ASQS.get(aqa) + 1, acqueue));
    features.startTimestamp(clock());
    commandSet = (int) NvmeRegisters.CC_CSS.get(cc);
  }

  /** QEMU's {@code nvme_ctrl_reset}: every queue, event and pending interrupt is dropped. */
  synchronized void reset() {
    generation++;
    java.util.Arrays.fill(sqs, null);
    java.util.Arrays.fill(cqs, null);
    queuedEvents = 0;
    aerMask = 0;
    outstandingAers = 0;
    queuesCreated = false;
    shadowDoorbells = false;
    shadowBase = 0;
    eventIndexBase = 0;
    irqStatus = 0;
    pendingQueues = 0;
    if (context != null) {
      context.interrupts().intx(false);
    }
  }

  /** CSTS becomes CFS alone, as QEMU's {@code stl_le_p(&n->bar.csts, NVME_CSTS_FAILED)}. */
  void fail(String why) {
    bar0.store(NvmeRegisters.CSTS, NvmeRegisters.CSTS_CFS.mask());
    context.trace().note("NVMe controller fatal status: " + why);
  }

  long clock() {
    return context == null ? 0 : context.scheduler().nanoTime();
  }

  /**
   * Dataset Management Range Size Limit: the smallest block count one block-layer request allows,
   * over the namespaces as attached. QEMU computes it once, at attach: a later Format NVM to
   * another block size leaves it as it was.
   */
  long dmrsl() {
    return dmrsl;
  }

  // ---- Doorbells (QEMU's nvme_process_db) ----

  /** The host wrote {@code value} to the doorbell at BAR0 offset {@code offset}. */
  synchronized void doorbell(long offset, long value) {
    if (context == null) {
      return;
    }
    int slot = (int) ((offset - NvmeRegisters.DOORBELLS) >>> 2);
    int qid = slot >>> 1;
    if ((slot & 1) == 1) {
      completionHead(qid, (int) (value & 0xffff));
    } else {
      submissionTail(qid, (int) (value & 0xffff));
    }
  }

  private void completionHead(int qid, int head) {
    CompletionQueue cq = qid < cqs.length ? cqs[qid] : null;
    if (cq == null) {
      doorbellEvent(Events.INVALID_DOORBELL_REGISTER);
      return;
    }
    if (head >= cq.size) {
      doorbellEvent(Events.INVALID_DOORBELL_VALUE);
      return;
    }
    boolean wasFull = cq.full();
    cq.head = head;
    if (qid == 0 && shadowDoorbells) {
      dma().writeInt(cq.shadowDoorbell, head);
    }
    if (cq.tail == cq.head) {
      if (cq.interruptsEnabled) {
        pendingQueues--;
      }
      deassert(cq);
    }
    if (wasFull) {
      post(cq);
      // As QEMU's nvme_post_cqes: a submission queue whose requests all waited on this queue
      // is fetched from again now that some came back.
      for (SubmissionQueue sq : sqs) {
        if (sq != null && sq.cq == cq && !sq.empty() && sq.freeRequests > 0) {
          process(sq);
        }
      }
    }
  }

  private void submissionTail(int qid, int tail) {
    SubmissionQueue sq = qid < sqs.length ? sqs[qid] : null;
    if (sq == null) {
      doorbellEvent(Events.INVALID_DOORBELL_REGISTER);
      return;
    }
    if (tail >= sq.size) {
      doorbellEvent(Events.INVALID_DOORBELL_VALUE);
      return;
    }
    sq.tail = tail;
    if (qid == 0 && shadowDoorbells) {
      dma().writeInt(sq.shadowDoorbell, tail);
    }
    process(sq);
  }

  // ---- Fetching and completing (QEMU's nvme_process_sq and nvme_post_cqes) ----

  /** Runs the commands between the queue's head and tail, then posts their completions. */
  private void process(SubmissionQueue sq) {
    DeviceDma dma = dma();
    while (true) {
      if (sq.shadowDoorbell != 0) {
        sq.tail = dma.readInt(sq.shadowDoorbell);
      }
      while (!sq.empty() && sq.freeRequests > 0 && sqs[sq.id] == sq) {
        long at = sq.address + (long) sq.head * NvmeCommandDescriptor.SIZE;
        if (!dma.read(at, command, 0, NvmeCommandDescriptor.SIZE)) {
          fail(String.format("reading submission queue %d entry at 0x%x faulted", sq.id, at));
          return;
        }
        sq.head = (sq.head + 1) % sq.size;
        sq.freeRequests--;
        int opcode = Byte.toUnsignedInt(command.get(ValueLayout.JAVA_BYTE, 0));
        int cid = Short.toUnsignedInt(command.get(ValueLayout.JAVA_SHORT, 2));
        int nsid = command.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.NSID);
        context
            .trace()
            .record(
                TraceEvent.Kind.COMMAND,
                sq.trace,
                QueueTrace.commandWords(
                    command.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW10),
                    command.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW11)),
                QueueTrace.commandIdentity(opcode, cid, nsid),
                command.get(ValueLayout.JAVA_INT, NvmeCommandDescriptor.CDW12));
        NvmeFaults.Rule fault = faults == null ? null : faults.take(sq.id, opcode, nsid);
        int status;
        if (fault != null && fault.action() == NvmeFaults.Action.FAIL) {
          status = fault.status();
          context.trace().note("NVMe fault injected: command " + cid + " fails");
        } else {
          status = sq.id == 0 ? admin.execute(sq, cid) : nvm.execute();
        }
        if (status != NO_COMPLETION) {
          if (fault != null && fault.action() == NvmeFaults.Action.DROP) {
            context.trace().note("NVMe fault injected: completion of command " + cid + " dropped");
          } else if (fault != null && fault.action() == NvmeFaults.Action.DELAY) {
            context.trace().note("NVMe fault injected: completion of command " + cid + " delayed");
            completeAfter(fault.delay(), sq, cid, status, result);
          } else if (jitter != null && sq.id != 0) {
            completeAfter(
                java.time.Duration.ofNanos(jitter.nextLong(maxJitterNanos + 1)),
                sq,
                cid,
                status,
                result);
          } else {
            sq.cq.enqueue(sq, cid, status, result);
          }
        }
        result = 0;
        if (sq.shadowDoorbell != 0) {
          dma.writeInt(sq.eventIndex, sq.tail);
          sq.tail = dma.readInt(sq.shadowDoorbell);
        }
      }
      CompletionQueue cq = sq.cq;
      if (cqs[cq.id] != cq) {
        return;
      }
      post(cq);
      // Posting gave requests back: a queue that stalled for want of them goes on.
      if (sqs[sq.id] != sq || sq.empty() || sq.freeRequests == 0 || cq.waiting() > 0) {
        return;
      }
    }
  }

  /** Posts what waits on {@code cq} until it is full, then signals its interrupt. */
  void post(CompletionQueue cq) {
    DeviceDma dma = dma();
    boolean hadEntries = cq.head != cq.tail;
    while (cq.waiting() > 0) {
      if (shadowDoorbells) {
        dma.writeInt(cq.eventIndex, cq.head);
        cq.head = dma.readInt(cq.shadowDoorbell);
      }
      if (cq.full()) {
        break;
      }
      SubmissionQueue sq = cq.firstSource();
      completion.set(ValueLayout.JAVA_INT, NvmeCompletionDescriptor.DW0, cq.firstResult());
      completion.set(ValueLayout.JAVA_INT, NvmeCompletionDescriptor.DW1, 0);
      completion.set(ValueLayout.JAVA_SHORT, NvmeCompletionDescriptor.SQ_HEAD, (short) sq.head);
      completion.set(ValueLayout.JAVA_SHORT, NvmeCompletionDescriptor.SQ_ID, (short) sq.id);
      completion.set(
          ValueLayout.JAVA_SHORT, NvmeCompletionDescriptor.COMMAND_ID, (short) cq.firstCommandId());
      completion.set(
          ValueLayout.JAVA_SHORT,
          NvmeCompletionDescriptor.STATUS,
          (short) (cq.firstStatus() << 1 | (cq.phase ? 1 : 0)));
      long at = cq.address + (long) cq.tail * NvmeCompletionDescriptor.SIZE;
      if (!dma.write(at, completion, 0, NvmeCompletionDescriptor.SIZE)) {
        fail(String.format("writing completion queue %d entry at 0x%x faulted", cq.id, at));
        break;
      }
      context
          .trace()
          .record(
              TraceEvent.Kind.COMPLETION,
              cq.trace,
              cq.firstResult(),
              QueueTrace.completionIdentity(cq.firstCommandId(), cq.firstStatus(), sq.head, sq.id),
              cq.phase ? 1 : 0);
      cq.dropFirst();
      cq.advanceTail();
      sq.freeRequests++;
    }
    if (cq.tail != cq.head) {
      if (cq.interruptsEnabled && !hadEntries) {
        pendingQueues++;
      }
      assertInterrupt(cq);
    }
  }

  /** Posts a completion {@code delay} from now, unless the controller is reset before. */
  private void completeAfter(
      java.time.Duration delay, SubmissionQueue sq, int cid, int status, int dw0) {
    long when = generation;
    context
        .scheduler()
        .schedule(
            delay,
            "delayed NVMe completion",
            () -> {
              synchronized (this) {
                if (generation == when && sqs[sq.id] == sq && cqs[sq.cq.id] == sq.cq) {
                  sq.cq.enqueue(sq, cid, status, dw0);
                  post(sq.cq);
                }
              }
            });
  }

  /** Completes a command that finished later (an asynchronous event) on the admin queues. */
  private void completeLater(int cid, int status, int dw0) {
    CompletionQueue cq = cqs[0];
    SubmissionQueue sq = sqs[0];
    if (cq == null || sq == null) {
      return;
    }
    cq.enqueue(sq, cid, status, dw0);
    post(cq);
  }

  // ---- Queues ----

  void attach(SubmissionQueue sq) {
    sq.cq.attachedQueues++;
    sq.cq.reserve(sq.size);
    if (shadowDoorbells) {
      sq.shadowDoorbell = shadowBase + ((long) sq.id << 3);
      sq.eventIndex = eventIndexBase + ((long) sq.id << 3);
    }
    sqs[sq.id] = sq;
  }

  void create(CompletionQueue cq) {
    if (shadowDoorbells) {
      cq.shadowDoorbell = shadowBase + ((long) cq.id << 3) + 4;
      cq.eventIndex = eventIndexBase + ((long) cq.id << 3) + 4;
    }
    cqs[cq.id] = cq;
  }

  /** QEMU's {@code nvme_del_sq}: what can be posted is, the rest of its completions are lost. */
  void delete(SubmissionQueue sq) {
    CompletionQueue cq = sq.cq;
    if (cqs[cq.id] == cq) {
      cq.attachedQueues--;
      post(cq);
      cq.forget(sq);
    }
    sqs[sq.id] = null;
  }

  /** QEMU's {@code nvme_del_cq}. */
  void delete(CompletionQueue cq) {
    if (cq.interruptsEnabled && cq.tail != cq.head) {
      pendingQueues--;
    }
    deassert(cq);
    cqs[cq.id] = null;
  }

  /** QEMU's {@code nvme_dbbuf_config}: shadow doorbells for every queue, now and later. */
  void shadowDoorbells(long doorbells, long eventIndexes) {
    shadowBase = doorbells;
    eventIndexBase = eventIndexes;
    shadowDoorbells = true;
    for (SubmissionQueue sq : sqs) {
      if (sq != null) {
        sq.shadowDoorbell = doorbells + ((long) sq.id << 3);
        sq.eventIndex = eventIndexes + ((long) sq.id << 3);
        dma().writeInt(sq.shadowDoorbell, sq.tail);
      }
    }
    for (CompletionQueue cq : cqs) {
      if (cq != null) {
        cq.shadowDoorbell = doorbells + ((long) cq.id << 3) + 4;
        cq.eventIndex = eventIndexes + ((long) cq.id << 3) + 4;
        dma().writeInt(cq.shadowDoorbell, cq.head);
      }
    }
  }

  // ---- Namespaces taken away ----

  /** Removes namespace {@code nsid}, as a hot-removed drive; false if there is none. */
  boolean removeNamespace(int nsid) {
    if (nsid < 1 || nsid > IdentifyData.MAX_NAMESPACES || namespaces[nsid] == null) {
      return false;
    }
    namespaces[nsid] = null;
    context.trace().note("NVMe namespace " + nsid + " removed");
    if (!changedNamespaces[nsid]) {
      changedNamespaces[nsid] = true;
      event(Events.NOTICE, Events.NAMESPACE_ATTRIBUTE_CHANGED, Events.LOG_CHANGED_NAMESPACES);
    }
    return true;
  }

  /** Fills {@code list} with the changed namespaces (as 32-bit ids) and forgets them. */
  void takeChangedNamespaces(MemorySegment list) {
    int j = 0;
    for (int nsid = 1; nsid < changedNamespaces.length; nsid++) {
      if (changedNamespaces[nsid]) {
        list.setAtIndex(ValueLayout.JAVA_INT, j++, nsid);
        changedNamespaces[nsid] = false;
      }
    }
  }

  // ---- Interrupts (QEMU's nvme_irq_assert, nvme_irq_deassert, nvme_irq_check) ----

  private void assertInterrupt(CompletionQueue cq) {
    if (!cq.interruptsEnabled) {
      return;
    }
    if (context.interrupts().msixEnabled()) {
      context.interrupts().msix(cq.vector);
    } else if (cq.vector < 32) {
      irqStatus |= 1 << cq.vector;
      checkInterrupts();
    }
  }

  private void deassert(CompletionQueue cq) {
    if (!cq.interruptsEnabled || context.interrupts().msixEnabled() || cq.vector >= 32) {
      return;
    }
    if (pendingQueues == 0) {
      irqStatus &= ~(1 << cq.vector);
    }
    checkInterrupts();
  }

  /** The INTx line follows unmasked vectors with completions; INTMS masks them. */
  synchronized void checkInterrupts() {
    if (context == null || context.interrupts().msixEnabled()) {
      return;
    }
    int mask = (int) bar0.value(NvmeRegisters.INTMS);
    context.interrupts().intx((~mask & irqStatus) != 0);
  }

  // ---- Asynchronous events (QEMU's nvme_aer, nvme_enqueue_event, nvme_process_aers) ----

  /** Takes an Asynchronous Event Request; false if over the limit. */
  boolean requestEvent(int cid) {
    if (outstandingAers > options.aerl()) {
      return false;
    }
    aerCommandIds[outstandingAers++] = cid;
    if (queuedEvents > 0) {
      processEvents();
    }
    return true;
  }

  /**
   * An invalid doorbell write: an error event, but only if a request waits to carry it (QEMU's
   * {@code nvme_process_db} drops it otherwise).
   */
  private void doorbellEvent(int info) {
    if (outstandingAers > 0) {
      event(Events.ERROR, info, Events.LOG_ERROR_INFO);
    }
  }

  /** Queues an event (up to QEMU's 64) until an Asynchronous Event Request carries it. */
  void event(int type, int info, int logPage) {
    if (queuedEvents == events.length) {
      return;
    }
    events[queuedEvents++] = type | info << 8 | logPage << 16;
    processEvents();
  }

  /** The host read the log page of events of {@code type}: they may be reported again. */
  void clearEvents(int type) {
    aerMask &= ~(1 << type);
    if (queuedEvents > 0) {
      processEvents();
    }
  }

  private void processEvents() {
    int i = 0;
    while (i < queuedEvents) {
      if (outstandingAers == 0) {
        break;
      }
      int event = events[i];
      int type = event & 0x7;
      if ((aerMask & (1 << type)) != 0) {
        i++;
        continue;
      }
      System.arraycopy(events, i + 1, events, i, queuedEvents - i - 1);
      queuedEvents--;
      aerMask |= 1 << type;
      outstandingAers--;
      completeLater(aerCommandIds[outstandingAers], NvmeStatus.SUCCESS, event);
    }
  }

  /** Asynchronous event types, information and log pages QEMU reports. */
  static final class Events {
    static final int ERROR = 0;
    static final int SMART = 1;
    static final int INVALID_DOORBELL_REGISTER = 0;
    static final int INVALID_DOORBELL_VALUE = 1;
    static final int NOTICE = 2;
    static final int TEMPERATURE_THRESHOLD = 1;
    static final int NAMESPACE_ATTRIBUTE_CHANGED = 0;
    static final int LOG_CHANGED_NAMESPACES = 0x04;
    static final int LOG_ERROR_INFO = 0x01;
    static final int LOG_SMART = 0x02;

    private Events() {}
  }
}
