package dev.upcie.tools.nvme;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.QueuePairOptions;
import dev.upcie.tools.UsageException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * What {@code upcie nvme read} and {@code write} do with an open controller: one read or write of a
 * range of blocks, through a DMA buffer and a queue pair of their own. The driver checks the range
 * against the namespace and splits what exceeds MDTS; a mistake is refused before any I/O.
 */
final class BlockIo {
  /** Entries of the queue pair: room for the commands a large transfer splits into. */
  private static final int QUEUE_DEPTH = 16;

  private BlockIo() {}

  /**
   * Reads {@code blocks} blocks of {@code ns} from {@code startBlock}.
   *
   * @throws UsageException if the range is outside the namespace (nothing was sent)
   */
  static byte[] read(NvmeController controller, NvmeNamespace ns, long startBlock, long blocks) {
    long bytes = blocks * ns.blockSize();
    try (DmaHeap heap = controller.device().dma().heap(heapSize(bytes));
        DmaBuffer buffer = heap.allocate(bytes, 4096);
        NvmeQueuePair io = controller.createQueuePair(QueuePairOptions.depth(QUEUE_DEPTH))) {
      try {
        io.read(ns, startBlock, blocks, buffer, 0);
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
      return buffer.segment().asSlice(0, bytes).toArray(ValueLayout.JAVA_BYTE);
    }
  }

  /**
   * Writes {@code data}, whole blocks, to {@code ns} from {@code startBlock}.
   *
   * @throws UsageException if the data is not whole blocks or the range is outside the namespace
   *     (nothing was sent)
   */
  static void write(NvmeController controller, NvmeNamespace ns, long startBlock, byte[] data) {
    if (data.length == 0 || data.length % ns.blockSize() != 0) {
      throw new UsageException(
          data.length + " bytes of data are not whole blocks of " + ns.blockSize() + " bytes");
    }
    long bytes = data.length;
    try (DmaHeap heap = controller.device().dma().heap(heapSize(bytes));
        DmaBuffer buffer = heap.allocate(bytes, 4096);
        NvmeQueuePair io = controller.createQueuePair(QueuePairOptions.depth(QUEUE_DEPTH))) {
      MemorySegment.copy(MemorySegment.ofArray(data), 0, buffer.segment(), 0, bytes);
      try {
        io.write(ns, startBlock, bytes / ns.blockSize(), buffer, 0);
      } catch (IllegalArgumentException e) {
        throw new UsageException(e.getMessage());
      }
    }
  }

  /** A heap with room for one buffer of {@code bytes}: the allocator hands out powers of two. */
  private static long heapSize(long bytes) {
    return Math.max(4096, Long.highestOneBit(bytes - 1) << 1);
  }
}
