package dev.upcie.sim.nvme;

import dev.upcie.sim.model.DeviceDma;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Namespace bytes in a file, mapped into memory: a raw image as QEMU's {@code -drive format=raw}
 * reads it. The file is created sparse, or extended, to the namespace's size; the mapping is
 * released with the store (by the garbage collector).
 */
final class FileStore implements BlockStore {
  private final Path file;
  private final MemorySegment mapped;

  FileStore(Path file, long size) {
    this.file = file;
    try (FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      if (channel.size() < size) {
        // Writing the last byte makes a sparse file of the full size.
        channel.write(java.nio.ByteBuffer.wrap(new byte[1]), size - 1);
      }
      this.mapped = channel.map(FileChannel.MapMode.READ_WRITE, 0, size, Arena.ofAuto());
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot back a simulated namespace with "
              + file
              + ": "
              + e.getMessage()
              + " (the directory must exist and be writable, with room for a sparse file of "
              + size
              + " bytes)",
          e);
    }
  }

  @Override
  public long size() {
    return mapped.byteSize();
  }

  @Override
  public boolean toHost(DeviceDma dma, long address, long offset, long length) {
    return dma.write(address, mapped, offset, length);
  }

  @Override
  public boolean fromHost(DeviceDma dma, long address, long offset, long length) {
    return dma.read(address, mapped, offset, length);
  }

  @Override
  public void write(long offset, MemorySegment source, long sourceOffset, long length) {
    MemorySegment.copy(source, sourceOffset, mapped, offset, length);
  }

  @Override
  public void read(long offset, MemorySegment destination, long length) {
    MemorySegment.copy(mapped, offset, destination, 0, length);
  }

  @Override
  public void zero(long offset, long length) {
    mapped.asSlice(offset, length).fill((byte) 0);
  }

  @Override
  public void flush() {
    mapped.force();
  }

  @Override
  public String toString() {
    return "FileStore[" + file + "]";
  }
}
