package dev.upcie.mmio;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * {@link Mmio} over a memory segment: a mapped BAR, or any memory laid out like one.
 *
 * <p>The segment checks each access (bounds, alignment, and that the mapping is still there); the
 * failures are translated into this window's terms. Checking once more here would cost a fifth of
 * an access (see docs/benchmarks.md), which is what an ordered access already costs over C: after
 * each one the JIT must load and check again what it checked before.
 */
final class SegmentMmio implements Mmio {
  private static final VarHandle INT =
      ValueLayout.JAVA_INT.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();
  private static final VarHandle LONG =
      ValueLayout.JAVA_LONG.withOrder(ByteOrder.LITTLE_ENDIAN).varHandle();

  private final String name;
  private final MemorySegment segment;
  private final long size;

  SegmentMmio(String name, MemorySegment segment) {
    this.name = Objects.requireNonNull(name, "name");
    this.segment = Objects.requireNonNull(segment, "segment");
    this.size = segment.byteSize();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int getIntVolatile(long offset) {
    try {
      return (int) INT.getVolatile(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Integer.BYTES, e);
    }
  }

  @Override
  public void putIntVolatile(long offset, int value) {
    try {
      INT.setVolatile(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Integer.BYTES, e);
    }
  }

  @Override
  public long getLongVolatile(long offset) {
    try {
      return (long) LONG.getVolatile(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Long.BYTES, e);
    }
  }

  @Override
  public void putLongVolatile(long offset, long value) {
    try {
      LONG.setVolatile(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Long.BYTES, e);
    }
  }

  @Override
  public int getIntAcquire(long offset) {
    try {
      return (int) INT.getAcquire(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Integer.BYTES, e);
    }
  }

  @Override
  public int getIntOpaque(long offset) {
    try {
      return (int) INT.getOpaque(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Integer.BYTES, e);
    }
  }

  @Override
  public void putIntRelease(long offset, int value) {
    try {
      INT.setRelease(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Integer.BYTES, e);
    }
  }

  @Override
  public void putIntOpaque(long offset, int value) {
    try {
      INT.setOpaque(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Integer.BYTES, e);
    }
  }

  @Override
  public long getLongAcquire(long offset) {
    try {
      return (long) LONG.getAcquire(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Long.BYTES, e);
    }
  }

  @Override
  public long getLongOpaque(long offset) {
    try {
      return (long) LONG.getOpaque(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Long.BYTES, e);
    }
  }

  @Override
  public void putLongRelease(long offset, long value) {
    try {
      LONG.setRelease(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Long.BYTES, e);
    }
  }

  @Override
  public void putLongOpaque(long offset, long value) {
    try {
      LONG.setOpaque(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw refused(offset, Long.BYTES, e);
    }
  }

  @Override
  public String toString() {
    return "Mmio[" + name + ", 0x" + Long.toHexString(size) + " bytes]";
  }

  /** The segment refused an access: say it in the window's terms, as {@link Mmio#checkAccess}. */
  private RuntimeException refused(long offset, int width, RuntimeException cause) {
    try {
      Mmio.checkAccess(name, size, offset, width);
    } catch (RuntimeException e) {
      e.initCause(cause);
      return e;
    }
    return cause;
  }

  private IllegalStateException closed(IllegalStateException cause) {
    return new IllegalStateException(name + " is no longer mapped (its device was closed)", cause);
  }
}
