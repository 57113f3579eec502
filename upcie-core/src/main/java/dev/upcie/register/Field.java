package dev.upcie.register;

import java.util.Objects;

/**
 * A bit field of a {@link Register}: {@code width} bits starting at bit {@code shift}.
 *
 * <pre>{@code
 * Field mqes = cap.field("MQES", 0, 16);
 * int entries = (int) mqes.get(capValue) + 1;
 * long cc = en.set(0, 1);                 // CC with EN set
 * }</pre>
 *
 * @param register the register it belongs to
 * @param name the specification's name, such as {@code RDY}
 * @param shift the lowest bit
 * @param width the number of bits
 */
public record Field(Register register, String name, int shift, int width) {

  /** Checks that the field lies within its register. */
  public Field {
    Objects.requireNonNull(register, "register");
    Objects.requireNonNull(name, "name");
    if (width < 1 || shift < 0 || shift + width > register.width() * 8) {
      throw new IllegalArgumentException(
          register.name()
              + "."
              + name
              + ": bits ["
              + shift
              + ", "
              + (shift + width)
              + ") do not fit in "
              + register.width() * 8
              + " bits");
    }
  }

  /** The field's bits in place: {@code 0x6} for a 2-bit field at bit 1. */
  public long mask() {
    return (width == 64 ? -1L : (1L << width) - 1) << shift;
  }

  /** The field's value in {@code registerValue}, shifted down. */
  public long get(long registerValue) {
    return (registerValue & mask()) >>> shift;
  }

  /** True if a 1-bit field is set (for wider fields: if any bit is). */
  public boolean isSet(long registerValue) {
    return (registerValue & mask()) != 0;
  }

  /**
   * {@code registerValue} with this field replaced by {@code value}.
   *
   * @throws IllegalArgumentException if {@code value} does not fit in the field
   */
  public long set(long registerValue, long value) {
    if (width < 64 && value >>> width != 0) {
      throw new IllegalArgumentException(
          "0x"
              + Long.toHexString(value)
              + " does not fit in the "
              + width
              + "-bit field "
              + register.name()
              + "."
              + name);
    }
    return (registerValue & ~mask()) | (value << shift);
  }

  /** {@code CSTS.RDY[0]} or {@code CAP.MQES[15:0]}. */
  @Override
  public String toString() {
    return register.name()
        + "."
        + name
        + (width == 1 ? "[" + shift + "]" : "[" + (shift + width - 1) + ":" + shift + "]");
  }
}
