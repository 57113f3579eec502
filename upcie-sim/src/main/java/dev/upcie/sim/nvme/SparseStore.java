package dev.upcie.sim.nvme;

import dev.upcie.sim.model.DeviceDma;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Namespace bytes in memory, allocated 64 KiB at a time on first write: a chunk never written reads
 * as zeros from one shared zero chunk. Chunks are found through a two-level table, so even a huge
 * namespace costs little until used. Memory is freed with the store (by the garbage collector).
 */
final class SparseStore implements BlockStore {
  private static final int CHUNK_BITS = 16;
  private static final long CHUNK = 1L << CHUNK_BITS;
  private static final int DIRECTORY_BITS = 12;
  private static final MemorySegment ZEROS = Arena.global().allocate(CHUNK, 4096);

  private final long size;
  private final Arena arena = Arena.ofAuto();
  private final MemorySegment[][] directories;

  SparseStore(long size) {
    this.size = size;
    long chunks = (size + CHUNK - 1) >>> CHUNK_BITS;
    this.directories =
        new MemorySegment[(int) ((chunks + (1 << DIRECTORY_BITS) - 1) >>> DIRECTORY_BITS)][];
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public boolean toHost(DeviceDma dma, long address, long offset, long length) {
    while (length > 0) {
      long within = offset & (CHUNK - 1);
      long piece = Math.min(length, CHUNK - within);
      MemorySegment chunk = chunk(offset >>> CHUNK_BITS);
      if (!dma.write(address, chunk == null ? ZEROS : chunk, within, piece)) {
        return false;
      }
      address += piece;
      offset += piece;
      length -= piece;
    }
    return true;
  }

  @Override
  public boolean fromHost(DeviceDma dma, long address, long offset, long length) {
    boolean all = true;
    while (length > 0) {
      long within = offset & (CHUNK - 1);
      long piece = Math.min(length, CHUNK - within);
      all &= dma.read(address, allocated(offset >>> CHUNK_BITS), within, piece);
      address += piece;
      offset += piece;
      length -= piece;
    }
    return all;
  }

  @Override
  public void write(long offset, MemorySegment source, long sourceOffset, long length) {
    while (length > 0) {
      long within = offset & (CHUNK - 1);
      long piece = Math.min(length, CHUNK - within);
      MemorySegment.copy(source, sourceOffset, allocated(offset >>> CHUNK_BITS), within, piece);
      sourceOffset += piece;
      offset += piece;
      length -= piece;
    }
  }

  @Override
  public void read(long offset, MemorySegment destination, long length) {
    long at = 0;
    while (length > 0) {
      long within = offset & (CHUNK - 1);
      long piece = Math.min(length, CHUNK - within);
      MemorySegment chunk = chunk(offset >>> CHUNK_BITS);
      MemorySegment.copy(chunk == null ? ZEROS : chunk, within, destination, at, piece);
      at += piece;
      offset += piece;
      length -= piece;
    }
  }

  @Override
  public void zero(long offset, long length) {
    while (length > 0) {
      long index = offset >>> CHUNK_BITS;
      long within = offset & (CHUNK - 1);
      long piece = Math.min(length, CHUNK - within);
      MemorySegment chunk = chunk(index);
      if (chunk != null) {
        if (piece == CHUNK) {
          directories[(int) (index >>> DIRECTORY_BITS)][
                  (int) (index & ((1 << DIRECTORY_BITS) - 1))] =
              null;
        } else {
          chunk.asSlice(within, piece).fill((byte) 0);
        }
      }
      offset += piece;
      length -= piece;
    }
  }

  @Override
  public void flush() {}

  private MemorySegment chunk(long index) {
    MemorySegment[] directory = directories[(int) (index >>> DIRECTORY_BITS)];
    return directory == null ? null : directory[(int) (index & ((1 << DIRECTORY_BITS) - 1))];
  }

  private MemorySegment allocated(long index) {
    int d = (int) (index >>> DIRECTORY_BITS);
    MemorySegment[] directory = directories[d];
    if (directory == null) {
      directory = directories[d] = new MemorySegment[1 << DIRECTORY_BITS];
    }
    int i = (int) (index & ((1 << DIRECTORY_BITS) - 1));
    MemorySegment chunk = directory[i];
    if (chunk == null) {
      chunk = directory[i] = arena.allocate(CHUNK, 4096);
    }
    return chunk;
  }
}
