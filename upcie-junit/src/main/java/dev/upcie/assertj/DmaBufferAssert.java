package dev.upcie.assertj;

import dev.upcie.memory.DmaBuffer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.assertj.core.api.AbstractAssert;

/**
 * Assertions on the contents of DMA memory, {@link UpcieAssertions#assertThat(DmaBuffer)}: what a
 * device wrote, or what a driver left for it. A failure gives the first offset that differs, how
 * many bytes differ, and a hex dump of both sides around it.
 *
 * <pre>{@code
 * assertThat(buffer).containsAt(0, (byte) 0xde, (byte) 0xad).isFilledWith((byte) 0, 2, 510);
 * assertThat(readBack).hasSameContentAs(written);
 * }</pre>
 *
 * <p>Reads the buffer's segment, so it runs on a thread that may use the buffer (the allocating
 * one, for a confined buffer).
 */
public final class DmaBufferAssert extends AbstractAssert<DmaBufferAssert, DmaBuffer> {
  private static final int MAX_LISTED = 32;

  DmaBufferAssert(DmaBuffer actual) {
    super(actual, DmaBufferAssert.class);
  }

  /** Verifies the buffer's size in bytes. */
  public DmaBufferAssert hasSize(long expected) {
    isNotNull();
    if (actual.size() != expected) {
      failWithActualExpectedAndMessage(
          actual.size(),
          expected,
          "%nExpecting%n  %s%nto be %s bytes long, but it is %s",
          actual,
          expected,
          actual.size());
    }
    return myself;
  }

  /** Verifies that the buffer holds {@code expected} from byte {@code offset} on. */
  public DmaBufferAssert containsAt(long offset, byte... expected) {
    isNotNull();
    checkRange(offset, expected.length);
    return compare(
        offset,
        expected.length,
        at ->
            at >= offset && at < offset + expected.length
                ? expected[(int) (at - offset)] & 0xff
                : -1,
        "to contain at offset 0x%x the %d bytes%n  %s"
            .formatted(offset, expected.length, hex(expected)));
  }

  /** Verifies that every byte of the buffer is {@code value}. */
  public DmaBufferAssert isFilledWith(byte value) {
    isNotNull();
    return isFilledWith(value, 0, actual.size());
  }

  /** Verifies that the {@code length} bytes from {@code offset} on are all {@code value}. */
  public DmaBufferAssert isFilledWith(byte value, long offset, long length) {
    isNotNull();
    checkRange(offset, length);
    return compare(
        offset,
        length,
        at -> at >= offset && at < offset + length ? value & 0xff : -1,
        "to have bytes 0x%x to 0x%x filled with 0x%02x"
            .formatted(offset, offset + length - 1, value & 0xff));
  }

  /** Verifies that every byte of the buffer is zero. */
  public DmaBufferAssert isZeroed() {
    isNotNull();
    return compare(0, actual.size(), at -> 0, "to be zeroed");
  }

  /** Verifies that the buffer holds the same bytes as {@code expected}, and as many. */
  public DmaBufferAssert hasSameContentAs(DmaBuffer expected) {
    isNotNull();
    MemorySegment other = expected.segment();
    return sameContent(expected.toString(), expected.size(), at -> byteAt(other, at));
  }

  /** Verifies that the buffer holds exactly the bytes of {@code expected}. */
  public DmaBufferAssert hasSameContentAs(byte[] expected) {
    isNotNull();
    return sameContent(
        "the " + expected.length + " bytes given",
        expected.length,
        at -> expected[(int) at] & 0xff);
  }

  private DmaBufferAssert sameContent(String other, long size, HexDump.Bytes expected) {
    if (actual.size() != size) {
      failWithMessage(
          "%nExpecting%n  %s%nto have the same content as%n  %s%nbut it is %s bytes long, not %s",
          actual, other, actual.size(), size);
    }
    return compare(
        0,
        size,
        at -> at < size ? expected.at(at) : -1,
        "to have the same content as%n  %s".formatted(other));
  }

  private DmaBufferAssert compare(long offset, long length, HexDump.Bytes expected, String what) {
    MemorySegment segment = actual.segment();
    if (!segment.scope().isAlive()) {
      failWithMessage("%nExpecting%n  %s%n%s,%nbut it is freed: its memory is gone", actual, what);
    }
    long first = -1;
    long differing = 0;
    for (long at = offset; at < offset + length; at++) {
      if (byteAt(segment, at) != expected.at(at)) {
        differing++;
        if (first < 0) {
          first = at;
        }
      }
    }
    if (first >= 0) {
      failWithMessage(
          "%nExpecting%n  %s%n%s,%nbut byte 0x%x is 0x%02x, not 0x%02x (%s of %s bytes differ):%n%s",
          actual,
          what,
          first,
          byteAt(segment, first),
          expected.at(first),
          differing,
          length,
          HexDump.around(first, actual.size(), at -> byteAt(segment, at), expected));
    }
    return myself;
  }

  private void checkRange(long offset, long length) {
    if (offset < 0 || length < 0 || offset > actual.size() - length) {
      throw new IndexOutOfBoundsException(
          "bytes 0x%x to 0x%x are outside %s".formatted(offset, offset + length - 1, actual));
    }
  }

  private static int byteAt(MemorySegment segment, long at) {
    return segment.get(ValueLayout.JAVA_BYTE, at) & 0xff;
  }

  // The first bytes only: the dump shows the ones that matter.
  private static String hex(byte[] bytes) {
    StringBuilder text = new StringBuilder();
    for (int i = 0; i < Math.min(bytes.length, MAX_LISTED); i++) {
      text.append(i == 0 ? "" : " ").append(String.format("%02x", bytes[i] & 0xff));
    }
    return bytes.length > MAX_LISTED ? text + " ..." : text.toString();
  }
}
