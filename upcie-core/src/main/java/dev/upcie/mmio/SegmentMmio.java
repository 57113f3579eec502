package dev.upcie.mmio;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Objects;

/** {@link Mmio} over a memory segment: a mapped BAR, or any memory laid out like one. */
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
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    try {
      return (int) INT.getVolatile(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public void putIntVolatile(long offset, int value) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    try {
      INT.setVolatile(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public long getLongVolatile(long offset) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    try {
      return (long) LONG.getVolatile(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public void putLongVolatile(long offset, long value) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    try {
      LONG.setVolatile(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public int getIntAcquire(long offset) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    try {
      return (int) INT.getAcquire(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public int getIntOpaque(long offset) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    try {
      return (int) INT.getOpaque(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public void putIntRelease(long offset, int value) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    try {
      INT.setRelease(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public void putIntOpaque(long offset, int value) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    try {
      INT.setOpaque(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public long getLongAcquire(long offset) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    try {
      return (long) LONG.getAcquire(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public long getLongOpaque(long offset) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    try {
      return (long) LONG.getOpaque(segment, offset);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public void putLongRelease(long offset, long value) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    try {
      LONG.setRelease(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public void putLongOpaque(long offset, long value) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    try {
      LONG.setOpaque(segment, offset, value);
    } catch (IllegalStateException e) {
      throw closed(e);
    }
  }

  @Override
  public String toString() {
    return "Mmio[" + name + ", 0x" + Long.toHexString(size) + " bytes]";
  }

  private IllegalStateException closed(IllegalStateException cause) {
    return new IllegalStateException(name + " is no longer mapped (its device was closed)", cause);
  }
}
