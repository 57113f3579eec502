package dev.upcie.register;

import java.util.Objects;

/**
 * A device register as a value: its name, where it is, and how wide. Drivers, register dumps,
 * traces and test assertions share one description, so a name printed in a dump is the name a
 * driver uses.
 *
 * <pre>{@code
 * Register csts = new Register("CSTS", 0x1c, 4);
 * Field rdy = csts.field("RDY", 0, 1);
 * boolean ready = rdy.isSet(bar0.read(csts));
 * }</pre>
 *
 * @param name the specification's name, such as {@code CSTS}
 * @param offset the byte offset in its space (a BAR, the configuration space)
 * @param width the width in bytes: 1, 2, 4 or 8
 */
public record Register(String name, long offset, int width) {

  /** Checks the name, a non-negative offset, and a width of 1, 2, 4 or 8 bytes. */
  public Register {
    Objects.requireNonNull(name, "name");
    if (offset < 0) {
      throw new IllegalArgumentException(name + ": negative offset " + offset);
    }
    if (width != 1 && width != 2 && width != 4 && width != 8) {
      throw new IllegalArgumentException(name + ": width must be 1, 2, 4 or 8 bytes: " + width);
    }
  }

  /** A field of this register: {@code width} bits from bit {@code shift}. */
  public Field field(String fieldName, int shift, int bits) {
    return new Field(this, fieldName, shift, bits);
  }

  /** The bits a value of this register can have: {@code 0xffffffff} for a 32-bit register. */
  public long mask() {
    return width == 8 ? -1L : (1L << (width * 8)) - 1;
  }

  /** {@code CSTS@0x1c/32}. */
  @Override
  public String toString() {
    return name + "@0x" + Long.toHexString(offset) + "/" + width * 8;
  }
}
