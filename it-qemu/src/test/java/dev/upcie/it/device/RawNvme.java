package dev.upcie.it.device;

import static org.awaitility.Awaitility.await;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCap;
import dev.upcie.nvme.NvmeCommandDescriptor;
import dev.upcie.nvme.NvmeCompletionDescriptor;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciDeviceHandle;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.Optional;

/**
 * An NVMe controller driven raw, through the device seam only: queues in DMA memory, commands
 * written byte by byte, doorbells rung by hand, completions read as the controller wrote them. No
 * driver stands between a conformance test and the controller, so the test sees exactly what the
 * simulated model and QEMU's device do, statuses and phase tags included.
 */
final class RawNvme implements AutoCloseable {
  static final Duration COMPLETION = Duration.ofSeconds(10);
  private static final VarHandle STATUS =
      ValueLayout.JAVA_SHORT.varHandle(); // read with acquire: the entry is complete after it

  final Mmio bar0;
  final DmaHeap heap;
  final int dstrd;
  final Queue admin;
  private final Duration readyTimeout;

  /**
   * Disables the controller, puts an admin queue pair of {@code entries} in DMA memory, enables.
   */
  RawNvme(PciDeviceHandle nvme, int entries) {
    this.bar0 = nvme.bar(0);
    NvmeCap cap = new NvmeCap(bar0.read(NvmeRegisters.CAP));
    this.readyTimeout = cap.readyTimeout().plusSeconds(1);
    this.dstrd = cap.dstrd();
    nvme.config().enableBusMaster();
    this.heap = nvme.dma().heap(8 << 20);
    try {
      disable();
      this.admin = new Queue(0, entries, entries);
      bar0.write(NvmeRegisters.AQA, (entries - 1) | (entries - 1) << 16);
      bar0.write(NvmeRegisters.ASQ, admin.submissions.deviceAddress().value());
      bar0.write(NvmeRegisters.ACQ, admin.completions.deviceAddress().value());
      long cc = 0;
      cc = NvmeRegisters.CC_IOSQES.set(cc, 6);
      cc = NvmeRegisters.CC_IOCQES.set(cc, 4);
      cc = NvmeRegisters.CC_EN.set(cc, 1);
      bar0.write(NvmeRegisters.CC, cc);
      await("CSTS.RDY after CC.EN")
          .atMost(readyTimeout)
          .until(() -> NvmeRegisters.CSTS_RDY.isSet(bar0.read(NvmeRegisters.CSTS)));
    } catch (RuntimeException e) {
      heap.close();
      throw e;
    }
  }

  /** A page-aligned DMA buffer of {@code size} bytes, zeroed. */
  DmaBuffer buffer(long size) {
    DmaBuffer buffer = heap.allocate(size, 4096);
    buffer.segment().fill((byte) 0);
    return buffer;
  }

  /** Runs {@code command} on the admin queue and returns its completion. */
  Completion admin(Command command) {
    return admin.run(command);
  }

  /**
   * Creates I/O completion queue {@code qid} of {@code cqEntries} (interrupts off) and submission
   * queue {@code qid} of {@code sqEntries} on it.
   */
  Queue ioQueues(int qid, int sqEntries, int cqEntries) {
    Queue queue = new Queue(qid, sqEntries, cqEntries);
    Completion cq =
        admin(
            Command.of(NvmeOpcodes.ADMIN_CREATE_CQ)
                .prp1(queue.completions.deviceAddress().value())
                .cdw(10, qid | (cqEntries - 1) << 16)
                .cdw(11, 0x1));
    if (cq.status() != 0) {
      throw new AssertionError("Create I/O CQ " + qid + ": " + cq);
    }
    Completion sq =
        admin(
            Command.of(NvmeOpcodes.ADMIN_CREATE_SQ)
                .prp1(queue.submissions.deviceAddress().value())
                .cdw(10, qid | (sqEntries - 1) << 16)
                .cdw(11, 0x1 | qid << 16));
    if (sq.status() != 0) {
      throw new AssertionError("Create I/O SQ " + qid + ": " + sq);
    }
    return queue;
  }

  /** Writes {@code value} to submission queue {@code qid}'s tail doorbell. */
  void submissionDoorbell(int qid, int value) {
    bar0.putIntRelease(NvmeRegisters.submissionTailDoorbell(qid, dstrd), value);
  }

  /** Writes {@code value} to completion queue {@code qid}'s head doorbell. */
  void completionDoorbell(int qid, int value) {
    bar0.putIntRelease(NvmeRegisters.completionHeadDoorbell(qid, dstrd), value);
  }

  void disable() {
    bar0.write(NvmeRegisters.CC, 0);
    await("CSTS.RDY clear after CC.EN = 0")
        .atMost(readyTimeout)
        .until(() -> !NvmeRegisters.CSTS_RDY.isSet(bar0.read(NvmeRegisters.CSTS)));
  }

  /** Disables the controller (so it stops using the queues) before their memory goes. */
  @Override
  public void close() {
    try {
      disable();
    } finally {
      heap.close();
    }
  }

  /**
   * A submission queue and its completion queue, with the host's view of heads, tails and phase.
   */
  final class Queue {
    final int id;
    final int sqEntries;
    final int cqEntries;
    final DmaBuffer submissions;
    final DmaBuffer completions;
    int tail;
    int head;
    boolean phase = true;
    private int nextId = 1;

    Queue(int id, int sqEntries, int cqEntries) {
      this.id = id;
      this.sqEntries = sqEntries;
      this.cqEntries = cqEntries;
      this.submissions = buffer((long) sqEntries * NvmeCommandDescriptor.SIZE);
      this.completions = buffer((long) cqEntries * NvmeCompletionDescriptor.SIZE);
    }

    /**
     * Writes {@code command} at the tail with a fresh command id, without ringing; returns the id.
     */
    int place(Command command) {
      int cid = nextId++ & 0xffff;
      MemorySegment entry =
          submissions
              .segment()
              .asSlice((long) tail * NvmeCommandDescriptor.SIZE, NvmeCommandDescriptor.SIZE);
      command.writeTo(entry, cid);
      tail = (tail + 1) % sqEntries;
      return cid;
    }

    /** Rings the tail doorbell for what was placed. */
    void ring() {
      submissionDoorbell(id, tail);
    }

    /** Places and rings {@code command}; returns its command id. */
    int submit(Command command) {
      int cid = place(command);
      ring();
      return cid;
    }

    /** The completion at the head if its phase tag says it is new; it is not consumed. */
    Optional<Completion> peek() {
      MemorySegment entry =
          completions
              .segment()
              .asSlice((long) head * NvmeCompletionDescriptor.SIZE, NvmeCompletionDescriptor.SIZE);
      int word =
          Short.toUnsignedInt(
              (short) STATUS.getAcquire(entry, (long) NvmeCompletionDescriptor.STATUS));
      if (((word & 1) == 1) != phase) {
        return Optional.empty();
      }
      return Optional.of(Completion.of(entry));
    }

    /**
     * Waits for the next completion, consumes it and rings the head doorbell. A completion usually
     * comes within microseconds, so the queue is polled briefly before Awaitility takes over (its
     * setup costs a millisecond in a TCG guest, which a long command stream feels).
     */
    Completion next() {
      for (int spin = 0; spin < 20_000; spin++) {
        Optional<Completion> ready = peek();
        if (ready.isPresent()) {
          consume();
          return ready.get();
        }
        Thread.onSpinWait();
      }
      Completion completion =
          await("a completion on queue " + id)
              .pollInSameThread()
              .pollDelay(Duration.ZERO)
              .pollInterval(Duration.ofMillis(1))
              .atMost(COMPLETION)
              .until(this::peek, Optional::isPresent)
              .orElseThrow();
      consume();
      return completion;
    }

    /** Moves the head past one completion and tells the controller. */
    void consume() {
      head = (head + 1) % cqEntries;
      if (head == 0) {
        phase = !phase;
      }
      completionDoorbell(id, head);
    }

    /** Submits {@code command} and returns its completion. */
    Completion run(Command command) {
      int cid = submit(command);
      Completion completion = next();
      if (completion.cid() != cid) {
        throw new AssertionError("expected command " + cid + " to complete, got " + completion);
      }
      return completion;
    }
  }

  /** A completion queue entry as the controller wrote it. */
  record Completion(int dw0, int sqHead, int sqId, int cid, int status, boolean phase) {
    static Completion of(MemorySegment entry) {
      int word = Short.toUnsignedInt(entry.get(ValueLayout.JAVA_SHORT, 14));
      return new Completion(
          entry.get(ValueLayout.JAVA_INT, NvmeCompletionDescriptor.DW0),
          Short.toUnsignedInt(entry.get(ValueLayout.JAVA_SHORT, NvmeCompletionDescriptor.SQ_HEAD)),
          Short.toUnsignedInt(entry.get(ValueLayout.JAVA_SHORT, NvmeCompletionDescriptor.SQ_ID)),
          Short.toUnsignedInt(
              entry.get(ValueLayout.JAVA_SHORT, NvmeCompletionDescriptor.COMMAND_ID)),
          word >>> 1,
          (word & 1) == 1);
    }

    @Override
    public String toString() {
      return String.format(
          "Completion[cid %d, status %s, dw0 0x%x, sq %d head %d, phase %d]",
          cid, dev.upcie.nvme.NvmeStatus.describe(status), dw0, sqId, sqHead, phase ? 1 : 0);
    }
  }

  /** A 64-byte command, built field by field; the command id is set when it is placed. */
  static final class Command {
    private final int[] dwords = new int[16];

    private Command(int opcode) {
      dwords[0] = opcode;
    }

    static Command of(int opcode) {
      return new Command(opcode);
    }

    /** Byte 1: fused operation (bits 0-1) and PSDT (bits 6-7). */
    Command flags(int flags) {
      dwords[0] = (dwords[0] & ~0xff00) | (flags & 0xff) << 8;
      return this;
    }

    Command nsid(int nsid) {
      dwords[1] = nsid;
      return this;
    }

    Command prp1(long address) {
      dwords[6] = (int) address;
      dwords[7] = (int) (address >>> 32);
      return this;
    }

    Command prp2(long address) {
      dwords[8] = (int) address;
      dwords[9] = (int) (address >>> 32);
      return this;
    }

    /** Command dword {@code n} (10 to 15). */
    Command cdw(int n, int value) {
      dwords[n] = value;
      return this;
    }

    /** Read, Write, Compare and friends: starting LBA and the 0-based block count. */
    Command lba(long slba, int blocks) {
      dwords[10] = (int) slba;
      dwords[11] = (int) (slba >>> 32);
      dwords[12] = (dwords[12] & 0xffff0000) | ((blocks - 1) & 0xffff);
      return this;
    }

    void writeTo(MemorySegment entry, int cid) {
      for (int i = 0; i < dwords.length; i++) {
        entry.set(ValueLayout.JAVA_INT, i * 4L, i == 0 ? dwords[0] | cid << 16 : dwords[i]);
      }
    }
  }
}
