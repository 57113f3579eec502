package dev.upcie.it.device;

import static org.awaitility.Awaitility.await;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCap;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciDeviceHandle;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Just enough of an NVMe driver to prove the device seam end to end: the admin queue pair in DMA
 * memory, the controller enabled on it, one command submitted and its completion found. The
 * reference driver (with everything this leaves out) is built on the same seam later; this one
 * exists so the seam is proven on QEMU's controller now.
 */
final class AdminQueue implements AutoCloseable {
  /** Admin command: Identify. */
  static final int IDENTIFY = 0x06;

  /** Identify CNS: the controller data structure. */
  static final int CNS_CONTROLLER = 0x01;

  private static final int ENTRIES = 2;
  private static final int SQE = 64;
  private static final int CQE = 16;
  private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

  private final Mmio bar0;
  private final Duration readyTimeout;
  private final int dstrd;
  private final DmaHeap heap;
  private final DmaBuffer submissions;
  private final DmaBuffer completions;
  private final DmaBuffer data;

  /** Disables the controller, puts an admin queue pair in DMA memory, and enables it on them. */
  AdminQueue(PciDeviceHandle nvme) {
    this.bar0 = nvme.bar(0);
    NvmeCap cap = new NvmeCap(bar0.read(NvmeRegisters.CAP));
    this.readyTimeout = cap.readyTimeout().plusSeconds(1);
    this.dstrd = cap.dstrd();
    nvme.config().enableBusMaster();
    this.heap = nvme.dma().heap(2 << 20);
    try {
      this.submissions = heap.allocate(ENTRIES * SQE, 4096);
      this.completions = heap.allocate(ENTRIES * CQE, 4096);
      this.data = heap.allocate(4096, 4096);
      disable();
      bar0.write(NvmeRegisters.AQA, (ENTRIES - 1) | (ENTRIES - 1) << 16);
      bar0.write(NvmeRegisters.ASQ, submissions.deviceAddress().value());
      bar0.write(NvmeRegisters.ACQ, completions.deviceAddress().value());
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

  /** Submits {@code opcode} as command 0x55 with {@code cdw10}, its data in {@link #data()}. */
  void submit(int opcode, int cdw10) {
    MemorySegment sqe = submissions.segment().asSlice(0, SQE);
    sqe.fill((byte) 0);
    sqe.set(ValueLayout.JAVA_INT, 0, opcode | 0x55 << 16);
    sqe.set(ValueLayout.JAVA_LONG, 24, data.deviceAddress().value());
    sqe.set(ValueLayout.JAVA_INT, 40, cdw10);
    // The command is in memory before the doorbell tells the controller: a release store.
    bar0.putIntRelease(NvmeRegisters.submissionTailDoorbell(0, dstrd), 1);
  }

  /** True once the first completion entry has its phase bit set. */
  boolean completed() {
    return ((int) INT.getVolatile(completions.segment(), 12L) & 0x1_0000) != 0;
  }

  /** The command id of the first completion. */
  int completedId() {
    return completions.segment().get(ValueLayout.JAVA_INT, 12) & 0xffff;
  }

  /** The status field (type and code) of the first completion; 0 is success. */
  int completedStatus() {
    return completions.segment().get(ValueLayout.JAVA_INT, 12) >>> 17;
  }

  /** Tells the controller the completion was consumed. */
  void consume() {
    bar0.putIntRelease(NvmeRegisters.completionHeadDoorbell(0, dstrd), 1);
  }

  /** The command's data buffer: 4 KiB. */
  MemorySegment data() {
    return data.segment();
  }

  /** The serial number in Identify Controller data: bytes 4 to 23, ASCII, space-padded. */
  String serialNumber() {
    byte[] serial = data.segment().asSlice(4, 20).toArray(ValueLayout.JAVA_BYTE);
    return new String(serial, StandardCharsets.US_ASCII).strip();
  }

  private void disable() {
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
}
