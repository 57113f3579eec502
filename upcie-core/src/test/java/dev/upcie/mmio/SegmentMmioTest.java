package dev.upcie.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class SegmentMmioTest {
  @Test
  void accessesAreLittleEndianAtTheirNaturalWidth() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment memory = arena.allocate(64, 8);
      Mmio mmio = Mmio.of("test BAR", memory);

      mmio.putLongVolatile(8, 0x0102030405060708L);
      mmio.putIntVolatile(0, 0xcafef00d);

      assertThat(memory.get(ValueLayout.JAVA_BYTE, 8)).isEqualTo((byte) 0x08);
      assertThat(mmio.getIntVolatile(8)).isEqualTo(0x05060708);
      assertThat(mmio.getIntVolatile(12)).isEqualTo(0x01020304);
      assertThat(mmio.getLongVolatile(8)).isEqualTo(0x0102030405060708L);
      assertThat(mmio.getIntVolatile(0)).isEqualTo(0xcafef00d);
      assertThat(mmio.size()).isEqualTo(64);
    }
  }

  @Test
  void outOfBoundsAccessesNameTheWindowInsteadOfTouchingMemory() {
    try (Arena arena = Arena.ofConfined()) {
      Mmio mmio = Mmio.of("BAR0 of 0000:00:04.0", arena.allocate(0x4000, 8));

      assertThatThrownBy(() -> mmio.getIntVolatile(0x4000))
          .isInstanceOf(IndexOutOfBoundsException.class)
          .hasMessage(
              "32-bit access at offset 0x4000 is outside BAR0 of 0000:00:04.0 (0x4000 bytes)");
      assertThatThrownBy(() -> mmio.putLongVolatile(0x3ffc, 0))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> mmio.getIntVolatile(-4))
          .isInstanceOf(IndexOutOfBoundsException.class);
    }
  }

  @Test
  void misalignedAccessesAreRefused() {
    try (Arena arena = Arena.ofConfined()) {
      Mmio mmio = Mmio.of("BAR0", arena.allocate(64, 8));

      assertThatThrownBy(() -> mmio.getLongVolatile(4))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("64-bit access at offset 0x4 of BAR0 is not 8-byte aligned");
      assertThatThrownBy(() -> mmio.putIntVolatile(2, 0))
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void accessAfterUnmapThrowsInsteadOfCrashing() {
    Arena arena = Arena.ofShared();
    Mmio mmio = Mmio.of("BAR0 of 0000:00:04.0", arena.allocate(64, 8));
    arena.close();

    assertThatThrownBy(() -> mmio.getIntVolatile(0))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("BAR0 of 0000:00:04.0 is no longer mapped");
    assertThatThrownBy(() -> mmio.putLongVolatile(0, 1)).isInstanceOf(IllegalStateException.class);
  }
}
