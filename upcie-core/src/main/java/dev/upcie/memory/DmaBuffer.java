package dev.upcie.memory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Objects;

/**
 * A piece of DMA memory from a {@link DmaHeap}: a segment for the CPU and device addresses for the
 * device.
 *
 * <pre>{@code
 * try (DmaBuffer page = heap.allocate(4096)) {
 *   page.segment().set(ValueLayout.JAVA_INT, 0, 42);
 *   long prp = page.deviceAddress().value();     // for the device
 * }
 * }</pre>
 *
 * <p>The segment is closed when the buffer is freed, so a use after free throws instead of reading
 * memory that may already belong to someone else. A {@link Scope#CONFINED} buffer (the default) is
 * usable, and freed, only by the thread that allocated it; a {@link Scope#SHARED} one by any
 * thread, at the cost of a slower free.
 */
public final class DmaBuffer implements AutoCloseable {

  /** Which threads may use a buffer's segment. */
  public enum Scope {
    /** Only the allocating thread; freeing is nearly free. */
    CONFINED,
    /** Any thread; freeing synchronises with every thread (tens of microseconds). */
    SHARED
  }

  final DmaHeap heap;
  final int region;
  final int block;
  private final long offset;
  private final long size;
  private final Arena arena;
  private final MemorySegment segment;
  private final AddressTranslation translation;
  volatile boolean freed;

  DmaBuffer(
      DmaHeap heap,
      int region,
      int block,
      long offset,
      long size,
      Arena arena,
      MemorySegment segment,
      AddressTranslation translation) {
    this.heap = heap;
    this.region = region;
    this.block = block;
    this.offset = offset;
    this.size = size;
    this.arena = arena;
    this.segment = segment;
    this.translation = translation;
  }

  /** The memory, exactly {@link #size()} bytes; throws once the buffer is freed. */
  public MemorySegment segment() {
    return segment;
  }

  /** The size asked for. */
  public long size() {
    return size;
  }

  /**
   * The device address of the first byte.
   *
   * @throws IllegalStateException once the buffer is freed: a device given it could write into
   *     memory that now belongs to someone else
   */
  public DeviceAddress deviceAddress() {
    checkLive();
    return translation.translate(offset);
  }

  /**
   * The device address of the byte at {@code at}. With physical addresses a buffer larger than a
   * hugepage is not contiguous, so each page must be translated on its own.
   */
  public DeviceAddress deviceAddress(long at) {
    checkLive();
    if (at < 0 || at >= size) {
      throw new IndexOutOfBoundsException(
          "offset " + at + " is outside this " + size + "-byte buffer");
    }
    return translation.translate(offset + at);
  }

  /**
   * The value of {@link #deviceAddress(long)}: a primitive for hot loops (filling a PRP list, say),
   * where it allocates nothing (unless it throws).
   *
   * @throws IndexOutOfBoundsException if {@code at} is outside the buffer
   * @throws IllegalStateException once the buffer is freed
   */
  public long deviceAddressValue(long at) {
    checkLive();
    return translation.translateValue(offset + Objects.checkIndex(at, size));
  }

  /** How many bytes from {@code at} on the device can reach by adding to its address. */
  public long contiguousLength(long at) {
    if (at < 0 || at >= size) {
      throw new IndexOutOfBoundsException(
          "offset " + at + " is outside this " + size + "-byte buffer");
    }
    return translation.contiguousLength(offset + at, size - at);
  }

  /** True if the whole buffer is contiguous for the device. */
  public boolean isContiguous() {
    return translation.contiguousLength(offset, size) == size;
  }

  /** Frees the buffer; later calls do nothing. Same as {@link DmaHeap#free}, once. */
  @Override
  public void close() {
    heap.freeIfLive(this);
  }

  private void checkLive() {
    if (freed) {
      throw new IllegalStateException(
          "this " + size + "-byte buffer is freed; its device address must not be used");
    }
  }

  void closeSegment() {
    arena.close();
  }

  @Override
  public String toString() {
    return "DmaBuffer["
        + size
        + " bytes at "
        + translation.translate(offset)
        + (freed ? ", freed" : "")
        + "]";
  }
}
