package dev.upcie.sim.nvme;

import dev.upcie.sim.model.DeviceDma;
import java.lang.foreign.MemorySegment;

/**
 * Where a namespace's bytes live: sparse memory or a file. Transfers go straight between the store
 * and host memory through the device's DMA, a piece at a time, so nothing is allocated per command.
 */
sealed interface BlockStore permits SparseStore, FileStore {

  /** The store's size in bytes. */
  long size();

  /**
   * Copies {@code length} bytes from {@code offset} to host memory at device address {@code
   * address}.
   *
   * @return false if the DMA faulted (the bytes before the fault were transferred)
   */
  boolean toHost(DeviceDma dma, long address, long offset, long length);

  /**
   * Copies {@code length} bytes of host memory at device address {@code address} into the store at
   * {@code offset}. Where the DMA faults the store gets zeros, as QEMU's bounce buffer gives.
   *
   * @return false if any of the DMA faulted
   */
  boolean fromHost(DeviceDma dma, long address, long offset, long length);

  /**
   * Copies {@code length} bytes of {@code source} from {@code sourceOffset} into the store at
   * {@code offset}.
   */
  void write(long offset, MemorySegment source, long sourceOffset, long length);

  /** Copies {@code length} bytes at {@code offset} into {@code destination} at 0. */
  void read(long offset, MemorySegment destination, long length);

  /** Makes {@code length} bytes at {@code offset} read as zeros, freeing memory where it can. */
  void zero(long offset, long length);

  /** Forces written bytes to stable storage, where there is any. */
  void flush();
}
