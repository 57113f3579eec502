package dev.upcie.register;

import java.util.Objects;

/**
 * What a read of a {@link Register} returned: the register and its value, so that a field can be
 * taken from it without saying again which register it came from, and a message can name both.
 *
 * <pre>{@code
 * RegisterValue csts = bar0.readValue(NvmeRegisters.CSTS);
 * boolean ready = csts.isSet(NvmeRegisters.CSTS_RDY);
 * System.out.println(csts);                  // "CSTS = 0x00000001"
 * }</pre>
 *
 * @param register the register read
 * @param value its value, unsigned: no bits above the register's width
 */
public record RegisterValue(Register register, long value) {

  /** Checks that {@code value} fits in {@code register}. */
  public RegisterValue {
    Objects.requireNonNull(register, "register");
    if ((value & ~register.mask()) != 0) {
      throw new IllegalArgumentException(
          "0x" + Long.toHexString(value) + " does not fit in " + register);
    }
  }

  /**
   * The value of {@code field}, shifted down.
   *
   * @throws IllegalArgumentException if {@code field} belongs to another register: its bits here
   *     would mean something else
   */
  public long field(Field field) {
    return check(field).get(value);
  }

  /** True if a 1-bit {@code field} is set (for wider fields: if any bit is). */
  public boolean isSet(Field field) {
    return check(field).isSet(value);
  }

  /** The value in hexadecimal, as wide as the register: {@code 0x00000001} for 32 bits. */
  public String hex() {
    return String.format("0x%0" + register.width() * 2 + "x", value);
  }

  /** {@code CSTS = 0x00000001}. */
  @Override
  public String toString() {
    return register.name() + " = " + hex();
  }

  private Field check(Field field) {
    if (!field.register().equals(register)) {
      throw new IllegalArgumentException(
          field
              + " is a field of "
              + field.register()
              + ", not of "
              + register
              + ": read "
              + field.register().name()
              + " to get it");
    }
    return field;
  }
}
