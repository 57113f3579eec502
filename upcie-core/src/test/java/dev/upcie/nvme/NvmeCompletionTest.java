package dev.upcie.nvme;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class NvmeCompletionTest {

  @Test
  void readsEachFieldFromItsOwnLittleEndianBytes() {
    // Two entries, the second the one read: offsets within the segment count.
    byte[] bytes = new byte[32];
    MemorySegment cq = MemorySegment.ofArray(bytes);
    entry(cq, 16, 0x11223344, 0x55667788, 0x0a0b, 0x0c0d, 0xbeef, (0x4281 << 1) | 1);

    NvmeCompletion entry = NvmeCompletion.read(cq, 16);

    assertThat(bytes[16]).as("dw0's low byte first").isEqualTo((byte) 0x44);
    assertThat(entry.dw0()).isEqualTo(0x11223344);
    assertThat(entry.dw1()).isEqualTo(0x55667788);
    assertThat(entry.sqHead()).isEqualTo(0x0a0b);
    assertThat(entry.sqId()).isEqualTo(0x0c0d);
    assertThat(entry.commandId()).isEqualTo(0xbeef);
    assertThat(entry.phase()).isTrue();
    assertThat(entry.status()).isEqualTo(0x4281);
    assertThat(entry.statusCode()).isEqualTo(NvmeStatus.UNRECOVERED_READ_ERROR);
    assertThat(entry.statusCodeType()).isEqualTo(2);
    assertThat(entry.doNotRetry()).isTrue();
    assertThat(entry.more()).isFalse();
    assertThat(entry.isSuccessful()).isFalse();
  }

  @Test
  void decodesMoreAndTheCommandRetryDelay() {
    NvmeCompletion entry = new NvmeCompletion(0, 0, 1, 1, 7, false, 0x2000 | 0x1000 | 0x0080);

    assertThat(entry.more()).isTrue();
    assertThat(entry.commandRetryDelay()).isEqualTo(2);
    assertThat(entry.doNotRetry()).isFalse();
    assertThat(entry.statusCode()).isEqualTo(NvmeStatus.LBA_OUT_OF_RANGE);
    assertThat(entry)
        .hasToString(
            "NvmeCompletion[cid 7, status LBA Out of Range (0x0080), More, CRD 2, dw0 0x0,"
                + " sq 1 head 1, phase 0]");
  }

  @Test
  void aSuccessIsCodeZeroWhateverTheFlags() {
    assertThat(new NvmeCompletion(5, 0, 2, 0, 1, true, 0).isSuccessful()).isTrue();
    assertThat(new NvmeCompletion(5, 0, 2, 0, 1, true, NvmeStatus.MORE).isSuccessful()).isTrue();
    assertThat(new NvmeCompletion(5, 0, 2, 0, 1, true, 0))
        .hasToString(
            "NvmeCompletion[cid 1, status Successful Completion (0x0000), dw0 0x5, sq 0 head 2,"
                + " phase 1]");
  }

  @Test
  void anEntryOutsideTheSegmentOrOutOfRangeIsRefused() {
    MemorySegment cq = MemorySegment.ofArray(new byte[32]);

    assertThatThrownBy(() -> NvmeCompletion.read(cq, 24))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage(
            "a 16-byte completion entry at offset 0x18 does not fit in a segment of 32 bytes");
    assertThatThrownBy(() -> new NvmeCompletion(0, 0, 0, 0, 0x10000, false, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("commandId 0x10000 is outside 0 to 0xffff");
  }

  private static void entry(
      MemorySegment cq, long at, int dw0, int dw1, int sqHead, int sqId, int cid, int word) {
    ValueLayout.OfInt i = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    ValueLayout.OfShort s = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    cq.set(i, at, dw0);
    cq.set(i, at + 4, dw1);
    cq.set(s, at + 8, (short) sqHead);
    cq.set(s, at + 10, (short) sqId);
    cq.set(s, at + 12, (short) cid);
    cq.set(s, at + 14, (short) word);
  }
}
