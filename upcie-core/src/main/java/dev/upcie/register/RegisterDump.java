package dev.upcie.register;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToLongFunction;

/**
 * Register values read together, and how to print them: one line per register with its name, its
 * value in hexadecimal and its fields decoded, as {@code upcie nvme show-regs} prints them and as
 * test failures and timeouts show a device's state.
 *
 * <pre>{@code
 * RegisterDump dump =
 *     RegisterDump.read(List.of(EduRegisters.ID, EduRegisters.STATUS), bar0::read, List.of(
 *         EduRegisters.STATUS_COMPUTING, EduRegisters.STATUS_INTERRUPT_ON_FACTORIAL));
 * System.out.print(dump);
 * // id      0x010000ed
 * // status  0x00000001          computing=1 irqfact=0
 * }</pre>
 *
 * <p>{@code NvmeRegisters.dump(bar0)} is the NVMe controller's. A dump is immutable: a snapshot of
 * what was read.
 */
public final class RegisterDump {
  // The widest register, 64 bits, in hexadecimal: every value column lines up.
  private static final int VALUE_WIDTH = 18;
  private static final int MIN_NAME_WIDTH = 7;

  private final List<RegisterValue> values;
  private final List<Field> fields;
  private final Set<Field> hexFields;
  private final Function<RegisterValue, String> notes;

  private RegisterDump(
      List<RegisterValue> values,
      List<Field> fields,
      Set<Field> hexFields,
      Function<RegisterValue, String> notes) {
    this.values = values;
    this.fields = fields;
    this.hexFields = hexFields;
    this.notes = notes;
  }

  /**
   * A dump of {@code values}, in that order, decoding {@code fields} (each printed under its own
   * register, in the order given; fields of registers not in the dump are not printed).
   */
  public static RegisterDump of(List<RegisterValue> values, List<Field> fields) {
    return new RegisterDump(List.copyOf(values), List.copyOf(fields), Set.of(), v -> "");
  }

  /**
   * Reads {@code registers} in order with {@code reader} (such as {@code bar0::read}) and dumps
   * them, decoding {@code fields}.
   */
  public static RegisterDump read(
      List<Register> registers, ToLongFunction<Register> reader, List<Field> fields) {
    List<RegisterValue> read = new ArrayList<>(registers.size());
    for (Register register : registers) {
      read.add(new RegisterValue(register, reader.applyAsLong(register)));
    }
    return of(read, fields);
  }

  /**
   * This dump, printing {@code fields} in hexadecimal: fields whose bits each mean something, such
   * as NVMe's CAP.CSS.
   */
  public RegisterDump withHexFields(Collection<Field> hex) {
    return new RegisterDump(values, fields, Set.copyOf(hex), notes);
  }

  /**
   * This dump, with a note after a register's fields where {@code notes} gives one (an empty string
   * for none): what the raw value does not say at a glance, such as a version number.
   */
  public RegisterDump withNotes(Function<RegisterValue, String> notes) {
    return new RegisterDump(values, fields, hexFields, Objects.requireNonNull(notes, "notes"));
  }

  /** The values, in the order they were read. */
  public List<RegisterValue> values() {
    return values;
  }

  /**
   * The value of {@code register}.
   *
   * @throws IllegalArgumentException if the dump does not hold it
   */
  public RegisterValue value(Register register) {
    for (RegisterValue value : values) {
      if (value.register().equals(register)) {
        return value;
      }
    }
    throw new IllegalArgumentException(
        register
            + " is not in this dump (it has "
            + String.join(", ", values.stream().map(v -> v.register().name()).toList())
            + ")");
  }

  /**
   * The fields of {@code value}'s register as this dump decodes them, such as {@code rdy=1 cfs=0
   * shst=0 nssro=0 pp=0}; empty if it decodes none. {@code value} need not be one of the dump's.
   */
  public String decode(RegisterValue value) {
    StringBuilder text = new StringBuilder();
    for (Field field : fields) {
      if (field.register().equals(value.register())) {
        long v = field.get(value.value());
        text.append(text.isEmpty() ? "" : " ")
            .append(field.name().toLowerCase(Locale.ROOT))
            .append('=')
            .append(hexFields.contains(field) ? "0x" + Long.toHexString(v) : Long.toString(v));
      }
    }
    return text.toString();
  }

  /**
   * One line per register: name, value, decoded fields and note, in aligned columns, as in {@code
   * status 0x00000001 computing=1 irqfact=0}.
   */
  public List<String> lines() {
    int nameWidth = MIN_NAME_WIDTH;
    for (RegisterValue value : values) {
      nameWidth = Math.max(nameWidth, value.register().name().length());
    }
    List<String> lines = new ArrayList<>(values.size());
    for (RegisterValue value : values) {
      String note = notes.apply(value);
      String line =
          String.format(
              "%-" + nameWidth + "s %-" + VALUE_WIDTH + "s  %s%s",
              value.register().name().toLowerCase(Locale.ROOT),
              value.hex(),
              decode(value),
              note.isEmpty() ? "" : "  (" + note + ")");
      lines.add(line.stripTrailing());
    }
    return lines;
  }

  /** The {@link #lines()}, each ended by the platform's line separator. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    for (String line : lines()) {
      text.append(line).append(System.lineSeparator());
    }
    return text.toString();
  }
}
