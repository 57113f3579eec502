package dev.upcie.assertj;

import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.register.Field;
import dev.upcie.register.RegisterValue;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.assertj.core.api.AbstractAssert;
import org.assertj.core.api.AbstractLongAssert;
import org.assertj.core.api.Assertions;

/**
 * Assertions on a register read, {@link UpcieAssertions#assertThat(RegisterValue)}: its fields by
 * their shared {@link Field} descriptions, or its whole value. Failures show the register's value
 * in hexadecimal with its fields decoded.
 *
 * <pre>{@code
 * assertThat(bar0.readValue(CSTS)).field(CSTS_RDY).isEqualTo(1);
 * // [CSTS.RDY of 0x00000002 (rdy=0 cfs=1 shst=0 nssro=0 pp=0)]
 * // expected: 1L
 * //  but was: 0L
 * }</pre>
 */
public final class RegisterValueAssert extends AbstractAssert<RegisterValueAssert, RegisterValue> {

  RegisterValueAssert(RegisterValue actual) {
    super(actual, RegisterValueAssert.class);
  }

  /**
   * An assertion on the value of {@code field}, described as {@code CSTS.RDY of 0x00000002 (rdy=0
   * cfs=1 ...)}.
   *
   * @throws IllegalArgumentException if {@code field} belongs to another register
   */
  public AbstractLongAssert<?> field(Field field) {
    isNotNull();
    long value = actual.field(field);
    String prefix = info.hasDescription() ? info.descriptionText() + ": " : "";
    return Assertions.assertThat(value)
        .as("%s%s of %s", prefix, Described.field(field), Described.value(actual, field));
  }

  /**
   * Verifies that {@code field} has the value {@code expected}.
   *
   * @throws IllegalArgumentException if {@code field} belongs to another register
   */
  public RegisterValueAssert hasField(Field field, long expected) {
    isNotNull();
    long value = actual.field(field);
    if (value != expected) {
      failWithActualExpectedAndMessage(
          value,
          expected,
          "%nExpecting %s to be %s but was %s in%n  %s = %s",
          Described.field(field),
          Described.number(expected),
          Described.number(value),
          actual.register().name(),
          Described.value(actual, field));
    }
    return myself;
  }

  /**
   * Verifies that the register's whole value is {@code expected}; a failure names the fields that
   * differ.
   */
  public RegisterValueAssert hasValue(long expected) {
    isNotNull();
    if (actual.value() != expected) {
      String wanted;
      try {
        wanted = Described.value(new RegisterValue(actual.register(), expected), null);
      } catch (IllegalArgumentException e) {
        wanted = "0x" + Long.toHexString(expected) + ", which does not fit in " + actual.register();
      }
      failWithActualExpectedAndMessage(
          actual.hex(),
          "0x" + Long.toHexString(expected),
          "%nExpecting %s to be%n  %s%nbut was%n  %s%s",
          actual.register().name(),
          wanted,
          Described.value(actual, null),
          differences(expected));
    }
    return myself;
  }

  // "\nfields that differ: rdy 0 (expected 1), cfs 1 (expected 0)", for registers with known
  // fields.
  private String differences(long expected) {
    List<String> differ = new ArrayList<>();
    for (Field field : NvmeRegisters.fields(actual.register())) {
      if (field.get(actual.value()) != field.get(expected)) {
        differ.add(
            field.name().toLowerCase(Locale.ROOT)
                + " "
                + field.get(actual.value())
                + " (expected "
                + field.get(expected)
                + ")");
      }
    }
    return differ.isEmpty() ? "" : "%nfields that differ: ".formatted() + String.join(", ", differ);
  }
}
