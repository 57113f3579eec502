package dev.upcie.assertj;

import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeStatus;
import dev.upcie.register.Field;
import dev.upcie.register.RegisterDump;
import dev.upcie.register.RegisterValue;
import java.util.List;

/** How failure messages name registers and statuses: names, hexadecimal, decoded fields. */
final class Described {
  private Described() {}

  /**
   * {@code 0x00000002 (rdy=0 cfs=1 shst=0 nssro=0 pp=0)}: decoded with NVMe's fields for an NVMe
   * register, else with {@code asked} alone (when a field was asked for).
   */
  static String value(RegisterValue value, Field asked) {
    String fields =
        NvmeRegisters.ALL.contains(value.register())
            ? NvmeRegisters.dump(List.of(value)).decode(value)
            : asked == null ? "" : RegisterDump.of(List.of(value), List.of(asked)).decode(value);
    return value.hex() + (fields.isEmpty() ? "" : " (" + fields + ")");
  }

  /** {@code CSTS.RDY}: the names a driver author knows, without the bit range. */
  static String field(Field field) {
    return field.register().name() + "." + field.name();
  }

  /** A field's value, with its hexadecimal form when that says more than the decimal one. */
  static String number(long value) {
    return value >= 0 && value < 10
        ? Long.toString(value)
        : value + " (0x" + Long.toHexString(value) + ")";
  }

  /** {@code Invalid Field in Command (0x0002), DNR}. */
  static String status(int status) {
    return NvmeStatus.describe(status);
  }

  /**
   * True unless {@code actual} has the status code type and code of {@code expected}, and every
   * flag (DNR, More) that {@code expected} carries.
   */
  static boolean statusDiffers(int actual, int expected) {
    int flags = expected & (NvmeStatus.DNR | NvmeStatus.MORE);
    return NvmeStatus.code(actual) != NvmeStatus.code(expected) || (actual & flags) != flags;
  }
}
