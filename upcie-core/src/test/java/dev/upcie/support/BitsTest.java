package dev.upcie.support;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class BitsTest {
  @Test
  void masksIncludingTheFull64BitWidth() {
    assertThat(Bits.mask(0, 1)).isEqualTo(1L);
    assertThat(Bits.mask(24, 8)).isEqualTo(0xff000000L);
    assertThat(Bits.mask(0, 64)).isEqualTo(-1L);
    assertThat(Bits.mask(63, 1)).isEqualTo(Long.MIN_VALUE);
  }

  @Test
  void getsAndSetsFields() {
    long cap = 0x004018200f0107ffL;
    assertThat(Bits.get(cap, 24, 8)).isEqualTo(0x0f);
    assertThat(Bits.get(cap, 52, 4)).isEqualTo(4);
    assertThat(Bits.set(0xffff_ffffL, 4, 4, 0x5)).isEqualTo(0xffff_ff5fL);
    assertThat(Bits.test(cap, 16)).isTrue();
  }

  @Test
  void refusesFieldsThatDoNotFitOrLeaveTheWord() {
    assertThatThrownBy(() -> Bits.set(0, 0, 4, 0x10))
        .hasMessageContaining("does not fit in 4 bits");
    assertThatThrownBy(() -> Bits.mask(60, 8)).hasMessageContaining("not within 64 bits");
    assertThatThrownBy(() -> Bits.mask(0, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void sizesReadAsPeopleWriteThem() {
    assertThat(Sizes.human(16384)).isEqualTo("16 KiB");
    assertThat(Sizes.human(1536)).isEqualTo("1.5 KiB");
    assertThat(Sizes.human(100)).isEqualTo("100 B");
    assertThat(Sizes.human(1L << 30)).isEqualTo("1 GiB");
  }
}
