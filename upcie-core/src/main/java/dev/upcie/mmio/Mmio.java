package dev.upcie.mmio;

import dev.upcie.register.Register;
import dev.upcie.register.RegisterValue;
import java.lang.foreign.MemorySegment;

/**
 * A window of device registers: a BAR, or part of one.
 *
 * <p>Accesses are little-endian (as PCIe is), of their natural width (never split, never merged,
 * never a bulk copy), naturally aligned, and bounds-checked: an access outside the window throws
 * {@link IndexOutOfBoundsException} naming the window, instead of reaching another device's
 * registers or crashing the JVM. After the device is closed every access throws {@link
 * IllegalStateException}.
 *
 * <p>The memory ordering is part of each method's name, as in Agrona and {@link
 * java.lang.invoke.VarHandle}, and means what it means there. {@code Volatile} accesses are totally
 * ordered with each other; a volatile store also has release semantics (no earlier load or store,
 * such as a command written to DMA memory, moves after it) and a volatile load has acquire
 * semantics (no later load or store moves before it). Neither is ever elided, merged or hoisted out
 * of a polling loop. That is the right default for control registers such as NVMe's CC and CSTS.
 *
 * <p>Hot paths can ask for less, and pay less. {@code Release} stores keep every earlier load and
 * store before them but do not fence against later loads: a doorbell after writing a command to DMA
 * memory needs no more (on x86 it is a plain store, as a C {@code volatile} store is). {@code
 * Acquire} loads keep every later access after them: reading a completion's phase bit before its
 * body. {@code Opaque} accesses are never elided, merged or reordered with other accesses to the
 * same register, and order nothing else: C {@code volatile}. The defaults of the sixteen methods
 * fall back to the volatile ones, which is always correct; implementations over real memory use the
 * cheaper instructions.
 *
 * <pre>{@code
 * Mmio bar0 = device.bar(0);
 * long cap = bar0.getLongVolatile(0x00);      // NVMe CAP
 * bar0.putIntVolatile(0x14, cc | 1);          // NVMe CC.EN = 1
 * }</pre>
 */
public interface Mmio {

  /**
   * A register window over a mapped segment, such as a BAR that {@code mmap} returned.
   *
   * @param name what the window is, for messages: {@code BAR0 of 0000:00:04.0}
   * @param segment the mapping; its size bounds every access
   */
  static Mmio of(String name, MemorySegment segment) {
    return new SegmentMmio(name, segment);
  }

  /** What this window is, such as {@code BAR0 of 0000:00:04.0}. */
  String name();

  /** The size of the window in bytes. */
  long size();

  /** Loads the 32-bit register at {@code offset} with volatile semantics. */
  int getIntVolatile(long offset);

  /** Stores {@code value} to the 32-bit register at {@code offset} with volatile semantics. */
  void putIntVolatile(long offset, int value);

  /** Loads the 64-bit register at {@code offset} with volatile semantics, in one access. */
  long getLongVolatile(long offset);

  /** Stores {@code value} to the 64-bit register at {@code offset} with volatile semantics. */
  void putLongVolatile(long offset, long value);

  /** Loads the 32-bit register at {@code offset}; no later access moves before it. */
  default int getIntAcquire(long offset) {
    return getIntVolatile(offset);
  }

  /** Stores to the 32-bit register at {@code offset}; no earlier access moves after it. */
  default void putIntRelease(long offset, int value) {
    putIntVolatile(offset, value);
  }

  /** Loads the 64-bit register at {@code offset}; no later access moves before it. */
  default long getLongAcquire(long offset) {
    return getLongVolatile(offset);
  }

  /** Stores to the 64-bit register at {@code offset}; no earlier access moves after it. */
  default void putLongRelease(long offset, long value) {
    putLongVolatile(offset, value);
  }

  /** Loads the 32-bit register at {@code offset}, never elided; orders nothing else. */
  default int getIntOpaque(long offset) {
    return getIntVolatile(offset);
  }

  /** Stores to the 32-bit register at {@code offset}, never elided; orders nothing else. */
  default void putIntOpaque(long offset, int value) {
    putIntVolatile(offset, value);
  }

  /** Loads the 64-bit register at {@code offset}, never elided; orders nothing else. */
  default long getLongOpaque(long offset) {
    return getLongVolatile(offset);
  }

  /** Stores to the 64-bit register at {@code offset}, never elided; orders nothing else. */
  default void putLongOpaque(long offset, long value) {
    putLongVolatile(offset, value);
  }

  /**
   * Loads {@code register} with volatile semantics, at its width (32 or 64 bits), as an unsigned
   * value.
   *
   * @throws IllegalArgumentException for a register narrower than 32 bits: BARs are accessed 32 or
   *     64 bits wide
   */
  default long read(Register register) {
    return switch (register.width()) {
      case 4 -> Integer.toUnsignedLong(getIntVolatile(register.offset()));
      case 8 -> getLongVolatile(register.offset());
      default -> throw narrow(register);
    };
  }

  /**
   * Loads {@code register} as {@link #read(Register)} does, together with the register it came
   * from: a value whose fields, dump line and assertion messages can name it.
   *
   * @throws IllegalArgumentException for a register narrower than 32 bits
   */
  default RegisterValue readValue(Register register) {
    return new RegisterValue(register, read(register));
  }

  /**
   * Stores {@code value} to {@code register} with volatile semantics, at its width.
   *
   * @throws IllegalArgumentException for a register narrower than 32 bits, or a value wider than
   *     the register
   */
  default void write(Register register, long value) {
    if ((value & ~register.mask()) != 0) {
      throw new IllegalArgumentException(
          "0x" + Long.toHexString(value) + " does not fit in " + register);
    }
    switch (register.width()) {
      case 4 -> putIntVolatile(register.offset(), (int) value);
      case 8 -> putLongVolatile(register.offset(), value);
      default -> throw narrow(register);
    }
  }

  private static IllegalArgumentException narrow(Register register) {
    return new IllegalArgumentException(
        register + " is narrower than 32 bits; memory BARs are accessed 32 or 64 bits wide");
  }

  /**
   * Checks an access of {@code width} bytes at {@code offset} against a window of {@code size}
   * bytes: in bounds and naturally aligned. For implementations; allocates only to throw.
   *
   * @throws IndexOutOfBoundsException if the access leaves the window
   * @throws IllegalArgumentException if the offset is not a multiple of the width
   */
  static void checkAccess(String name, long size, long offset, int width) {
    if (offset < 0 || offset > size - width) {
      throw new IndexOutOfBoundsException(
          String.format(
              "%d-bit access at offset 0x%x is outside %s (0x%x bytes)",
              width * 8, offset, name, size));
    }
    if ((offset & (width - 1)) != 0) {
      throw new IllegalArgumentException(
          String.format(
              "%d-bit access at offset 0x%x of %s is not %d-byte aligned",
              width * 8, offset, name, width));
    }
  }
}
