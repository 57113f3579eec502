package dev.upcie.sim.mmio;

import dev.upcie.mmio.Mmio;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A simulated BAR: memory with register semantics, usable wherever a real BAR's {@link Mmio} is.
 *
 * <p>Each register has an offset, a width (32 or 64 bits), a reset value and a mask of the bits the
 * host may write; the rest of the window reads as zero and ignores writes, as reserved space does.
 * A 64-bit register can also be accessed as two 32-bit halves, as drivers that split accesses do.
 *
 * <p>The device side changes registers through {@link #deviceStoreInt} and {@link
 * #deviceStoreLong}, which ignore the host's write mask (a device sets its own read-only status
 * bits). Every access is atomic with respect to the others, so a driver thread and a device thread
 * may use one register file at once.
 *
 * <pre>{@code
 * RegisterFile bar0 = RegisterFile.builder("BAR0", 0x4000)
 *     .register(0x00, 8, 0x004018200f0107ffL, RegisterAccess.RO)   // CAP
 *     .register(0x14, 4, 0, 0x01fffff1L)                           // CC, defined fields only
 *     .build();
 * bar0.putIntVolatile(0x14, 0xffffffff);
 * bar0.getIntVolatile(0x14);                                       // 0x01fffff1
 * }</pre>
 */
public final class RegisterFile implements Mmio {
  private final String name;
  private final long size;
  private final long[] values;
  private final long[] writable;
  private final long[] resetValues;

  private RegisterFile(String name, long size, long[] resetValues, long[] writable) {
    this.name = name;
    this.size = size;
    this.resetValues = resetValues;
    this.writable = writable;
    this.values = resetValues.clone();
  }

  /**
   * Starts a register file of {@code size} bytes (a multiple of 8).
   *
   * @param name what it is, for messages: {@code BAR0 of 0000:00:05.0}
   */
  public static Builder builder(String name, long size) {
    return new Builder(name, size);
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
  public synchronized int getIntVolatile(long offset) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    return (int) (values[word(offset)] >>> shift(offset));
  }

  @Override
  public synchronized void putIntVolatile(long offset, int value) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    int word = word(offset);
    long mask = writable[word] & (0xffff_ffffL << shift(offset));
    long shifted = Integer.toUnsignedLong(value) << shift(offset);
    values[word] = (values[word] & ~mask) | (shifted & mask);
  }

  @Override
  public synchronized long getLongVolatile(long offset) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    return values[word(offset)];
  }

  @Override
  public synchronized void putLongVolatile(long offset, long value) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    int word = word(offset);
    values[word] = (values[word] & ~writable[word]) | (value & writable[word]);
  }

  /** Device side: sets a 32-bit value regardless of the host's write mask. */
  public synchronized void deviceStoreInt(long offset, int value) {
    Mmio.checkAccess(name, size, offset, Integer.BYTES);
    int word = word(offset);
    long mask = 0xffff_ffffL << shift(offset);
    values[word] = (values[word] & ~mask) | (Integer.toUnsignedLong(value) << shift(offset));
  }

  /** Device side: sets a 64-bit value regardless of the host's write mask. */
  public synchronized void deviceStoreLong(long offset, long value) {
    Mmio.checkAccess(name, size, offset, Long.BYTES);
    values[word(offset)] = value;
  }

  /** Puts every register back to its reset value. */
  public synchronized void reset() {
    System.arraycopy(resetValues, 0, values, 0, values.length);
  }

  @Override
  public String toString() {
    return "RegisterFile[" + name + ", 0x" + Long.toHexString(size) + " bytes]";
  }

  private static int word(long offset) {
    return (int) (offset >>> 3);
  }

  private static int shift(long offset) {
    return (int) (offset & 7) * 8;
  }

  /** Declares the registers of a {@link RegisterFile}. */
  public static final class Builder {
    private final String name;
    private final long size;
    private final long[] reset;
    private final long[] writable;
    private final List<long[]> declared = new ArrayList<>();

    private Builder(String name, long size) {
      this.name = Objects.requireNonNull(name, "name");
      if (size <= 0 || size % 8 != 0 || size / 8 > Integer.MAX_VALUE) {
        throw new IllegalArgumentException("register file size must be a positive multiple of 8");
      }
      this.size = size;
      this.reset = new long[(int) (size / 8)];
      this.writable = new long[(int) (size / 8)];
    }

    /** A register whose bits are all read-only or all read-write. */
    public Builder register(long offset, int width, long resetValue, RegisterAccess access) {
      long all = width == 8 ? -1L : 0xffff_ffffL;
      return register(offset, width, resetValue, access == RegisterAccess.RW ? all : 0);
    }

    /**
     * A register whose {@code writableMask} bits the host may change; the others are read-only
     * (reserved bits, or bits only the device sets).
     *
     * @param width 4 or 8 bytes
     */
    public Builder register(long offset, int width, long resetValue, long writableMask) {
      if (width != 4 && width != 8) {
        throw new IllegalArgumentException("registers are 4 or 8 bytes wide: " + width);
      }
      Mmio.checkAccess(name, size, offset, width);
      for (long[] other : declared) {
        if (offset < other[0] + other[1] && other[0] < offset + width) {
          throw new IllegalArgumentException(
              String.format("register at 0x%x overlaps the one at 0x%x", offset, other[0]));
        }
      }
      declared.add(new long[] {offset, width});
      int word = (int) (offset >>> 3);
      int shift = (int) (offset & 7) * 8;
      long widthMask = width == 8 ? -1L : 0xffff_ffffL;
      reset[word] |= (resetValue & widthMask) << shift;
      writable[word] |= (writableMask & widthMask) << shift;
      return this;
    }

    /** The register file, with every register at its reset value. */
    public RegisterFile build() {
      return new RegisterFile(
          name, size, Arrays.copyOf(reset, reset.length), Arrays.copyOf(writable, writable.length));
    }
  }
}
