package dev.upcie.sim.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

class RegisterFileTest {
  private final RegisterFile registers =
      RegisterFile.builder("BAR0", 0x100)
          .register(0x00, 8, 0x1122334455667788L, RegisterAccess.RO)
          .register(0x08, 4, 0xabcd, RegisterAccess.RW)
          .register(0x0c, 4, 0, 0x0000_00f1L)
          .register(0x10, 8, 0, 0xffff_ffff_ffff_f000L)
          .build();

  @Test
  void readOnlyRegistersIgnoreHostWrites() {
    registers.putLongVolatile(0x00, 0);
    registers.putIntVolatile(0x04, 0);

    assertThat(registers.getLongVolatile(0x00)).isEqualTo(0x1122334455667788L);
  }

  @Test
  void sixtyFourBitRegistersReadAsTwoLittleEndianHalves() {
    assertThat(registers.getIntVolatile(0x00)).isEqualTo(0x55667788);
    assertThat(registers.getIntVolatile(0x04)).isEqualTo(0x11223344);
  }

  @Test
  void writableMasksKeepReservedBitsAtTheirValue() {
    registers.putIntVolatile(0x08, 0x12345678);
    registers.putIntVolatile(0x0c, 0xffffffff);
    registers.putLongVolatile(0x10, 0xdead_beef_cafe_f00dL);

    assertThat(registers.getIntVolatile(0x08)).isEqualTo(0x12345678);
    assertThat(registers.getIntVolatile(0x0c)).isEqualTo(0xf1);
    assertThat(registers.getLongVolatile(0x10)).isEqualTo(0xdead_beef_cafe_f000L);
  }

  @Test
  void undeclaredSpaceReadsZeroAndIgnoresWrites() {
    registers.putIntVolatile(0x80, 0xffffffff);

    assertThat(registers.getIntVolatile(0x80)).isZero();
  }

  @Test
  void theDeviceSideSetsReadOnlyBitsAndResetRestoresEverything() {
    registers.deviceStoreInt(0x0c, 0xffff_ffff);
    registers.putIntVolatile(0x08, 1);
    assertThat(registers.getIntVolatile(0x0c)).isEqualTo(0xffff_ffff);

    registers.reset();

    assertThat(registers.getIntVolatile(0x08)).isEqualTo(0xabcd);
    assertThat(registers.getIntVolatile(0x0c)).isZero();
  }

  @Test
  void accessesAreBoundsAndAlignmentChecked() {
    assertThatThrownBy(() -> registers.getIntVolatile(0x100))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessage("32-bit access at offset 0x100 is outside BAR0 (0x100 bytes)");
    assertThatThrownBy(() -> registers.getLongVolatile(0x04))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theBuilderRefusesOverlappingOrMisplacedRegisters() {
    assertThatThrownBy(() ->
            RegisterFile.builder("BAR0", 0x100)
                .register(0x00, 8, 0, RegisterAccess.RO)
                .register(0x04, 4, 0, RegisterAccess.RW))
        .hasMessage("register at 0x4 overlaps the one at 0x0");
    assertThatThrownBy(() -> RegisterFile.builder("BAR0", 0x100).register(0x02, 4, 0, 0L))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> RegisterFile.builder("BAR0", 0x100).register(0x00, 2, 0, 0L))
        .hasMessageContaining("4 or 8 bytes");
  }

  @Test
  void concurrentWritesToBothHalvesOfOneWordLoseNothing() throws Exception {
    RegisterFile shared =
        RegisterFile.builder("BAR0", 8)
            .register(0x0, 4, 0, RegisterAccess.RW)
            .register(0x4, 4, 0, RegisterAccess.RW)
            .build();
    int rounds = 100_000;
    CyclicBarrier start = new CyclicBarrier(2);
    CompletableFuture<Void> low =
        CompletableFuture.runAsync(() -> hammer(shared, 0x0, rounds, start));
    CompletableFuture<Void> high =
        CompletableFuture.runAsync(() -> hammer(shared, 0x4, rounds, start));
    CompletableFuture.allOf(low, high).get();

    assertThat(shared.getIntVolatile(0x0)).isEqualTo(rounds);
    assertThat(shared.getIntVolatile(0x4)).isEqualTo(rounds);
  }

  private static void hammer(RegisterFile file, long offset, int rounds, CyclicBarrier start) {
    try {
      start.await();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    for (int i = 1; i <= rounds; i++) {
      file.putIntVolatile(offset, i);
      if (file.getIntVolatile(offset) != i) {
        throw new AssertionError("lost the write of " + i + " at 0x" + Long.toHexString(offset));
      }
    }
  }
}
