package dev.upcie.tools.nvme;

import dev.upcie.support.InvalidInputException;
import dev.upcie.support.Sizes;
import dev.upcie.tools.UsageException;
import java.util.Locale;
import picocli.CommandLine;

/** Numbers on the command line as nvme-cli takes them: decimal, or hexadecimal after {@code 0x}. */
final class Numbers {
  private Numbers() {}

  /**
   * An unsigned number, decimal or {@code 0x} hexadecimal.
   *
   * @throws UsageException quoting the input
   */
  static long parseUnsigned(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    try {
      long value =
          t.startsWith("0x") ? Long.parseUnsignedLong(t.substring(2), 16) : Long.parseLong(t);
      if (value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new UsageException(
          "invalid number \""
              + text
              + "\": expected a decimal number or 0x and hexadecimal digits");
    }
  }

  /**
   * A byte count: a number with an optional binary unit ({@code 4k}, {@code 64M}), as {@link
   * Sizes#parse}.
   */
  static long parseSize(String text) {
    return Sizes.parse(text);
  }

  /** Checks that {@code value} fits the 32 bits of a command dword. */
  static void checkDword(String option, long value) {
    if (value > 0xffff_ffffL) {
      throw new UsageException(
          option + " " + value + ": does not fit in 32 bits (at most 0xffffffff)");
    }
  }

  /** picocli's converter for {@link #parseUnsigned}. */
  static final class Unsigned implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parseUnsigned(value);
      } catch (InvalidInputException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** picocli's converter for a namespace id: 1 to 0xffffffff, decimal or hexadecimal. */
  static final class NamespaceId implements CommandLine.ITypeConverter<Integer> {
    @Override
    public Integer convert(String value) {
      long nsid;
      try {
        nsid = parseUnsigned(value);
      } catch (InvalidInputException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
      if (nsid < 1 || nsid > 0xffff_ffffL) {
        throw new CommandLine.TypeConversionException(
            "namespace ids are 1 to 0xffffffff, not " + value);
      }
      return (int) nsid;
    }
  }

  /** picocli's converter for {@link #parseSize}. */
  static final class Size implements CommandLine.ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parseSize(value);
      } catch (InvalidInputException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
