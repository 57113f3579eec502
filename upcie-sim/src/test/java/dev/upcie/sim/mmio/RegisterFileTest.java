package dev.upcie.sim.mmio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.register.Field;
import dev.upcie.register.Register;
import dev.upcie.sim.trace.Trace;
import dev.upcie.sim.trace.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import org.junit.jupiter.api.Test;

class RegisterFileTest {
  private static final Register CAP = new Register("CAP", 0x00, 8);
  private static final Register CTRL = new Register("CTRL", 0x08, 4);
  private static final Register STATUS = new Register("STATUS", 0x0c, 4);
  private static final Register BASE = new Register("BASE", 0x10, 8);
  private static final Register DOORBELL = new Register("DOORBELL", 0x18, 4);
  private static final Field STATUS_ERROR = STATUS.field("ERROR", 0, 1);
  private static final Field STATUS_LATCH = STATUS.field("LATCH", 4, 1);
  private static final Field STATUS_RESERVED = STATUS.field("RESERVED", 8, 8);

  private final List<Long> rung = new ArrayList<>();
  private final RegisterFile registers =
      RegisterFile.builder("BAR0", 0x100)
          .register(CAP, 0x1122334455667788L, FieldAccess.RO)
          .register(CTRL, 0xabcd, FieldAccess.RW)
          .register(STATUS, 0xff00, FieldAccess.RO)
          .field(STATUS_ERROR, FieldAccess.RW1C)
          .field(STATUS_LATCH, FieldAccess.RW1S)
          .field(STATUS_RESERVED, FieldAccess.RSVDZ)
          .register(BASE, 0, FieldAccess.RW)
          .register(DOORBELL, 0, FieldAccess.WO)
          .onWrite(DOORBELL, rung::add)
          .build();

  @Test
  void aWriteRangeTakesWhatNoRegisterDecodesThereAndReadsAsUnimplemented() {
    List<String> writes = new ArrayList<>();
    RegisterFile file =
        RegisterFile.builder("BAR0", 0x2000)
            .register(CTRL, 0, FieldAccess.RW)
            .onWrite(
                0x1000,
                0x1800,
                (offset, value, width) -> writes.add(offset + "=" + value + "/" + width))
            .build();

    file.putIntVolatile(0x1000, 7);
    file.putLongVolatile(0x1008, 0x1_0000_0002L);
    file.putIntVolatile(0x1800, 9); // past the range: dropped
    file.putIntVolatile(CTRL.offset(), 3); // a register: not the range's

    assertThat(writes).containsExactly("4096=7/4", "4104=4294967298/8");
    assertThat(file.getIntVolatile(0x1000)).as("reads as unimplemented space").isZero();
    assertThatThrownBy(() ->
            RegisterFile.builder("BAR0", 0x100).onWrite(0x80, 0x200, (offset, value, width) -> {}))
        .hasMessageContaining("not within BAR0");
  }

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
  void eachFieldFollowsItsAccessType() {
    registers.store(STATUS, 0x1);

    registers.putIntVolatile(0x0c, 0xffff_ffff);

    assertThat(registers.getIntVolatile(0x0c))
        .as("RW1C error cleared, RW1S latch set, RsvdZ byte zero, RO bits unchanged")
        .isEqualTo(0x10);
    registers.putIntVolatile(0x0c, 0);
    assertThat(registers.getIntVolatile(0x0c)).as("zeros change nothing").isEqualTo(0x10);
  }

  @Test
  void reservedZeroFieldsReadZeroWhateverTheResetValueSays() {
    assertThat(registers.value(STATUS_RESERVED)).isZero();
  }

  @Test
  void writeOnlyRegistersReachTheirHookAndReadAsUnimplemented() {
    registers.putIntVolatile(0x18, 7);
    registers.putLongVolatile(0x18, 0x0000_0009_0000_0008L);

    assertThat(rung).containsExactly(7L, 8L);
    assertThat(registers.getIntVolatile(0x18)).isZero();
  }

  @Test
  void aHookMayUseTheRegisterFileWithoutDeadlock() {
    Register r = new Register("R", 0, 4);
    Register shadow = new Register("SHADOW", 4, 4);
    RegisterFile[] file = new RegisterFile[1];
    file[0] =
        RegisterFile.builder("BAR0", 8)
            .register(r, 0, FieldAccess.RW)
            .register(shadow, 0, FieldAccess.RO)
            .onWrite(r, value -> file[0].store(shadow, ~value))
            .build();

    file[0].putIntVolatile(0, 0x0f);

    assertThat(file[0].getIntVolatile(4)).isEqualTo(~0x0f);
  }

  @Test
  void bytesRuleSplitsAndCombinesAccesses() {
    registers.putIntVolatile(0x14, 0x2);
    registers.putLongVolatile(0x08, 0x0000_0011_0000_1234L);

    assertThat(registers.getLongVolatile(0x10)).as("upper half alone").isEqualTo(2L << 32);
    assertThat(registers.getIntVolatile(0x08)).isEqualTo(0x1234);
    assertThat(registers.getIntVolatile(0x0c))
        .as("STATUS: latch set by the 64-bit write")
        .isEqualTo(0x10);
  }

  @Test
  void declaredRuleAnswersOtherWidthsWithUnimplementedSpace() {
    Register narrow = new Register("NARROW", 0x00, 4);
    Register wide = new Register("WIDE", 0x80, 8);
    RegisterFile edu =
        RegisterFile.builder("BAR0", 0x100)
            .widthRule(WidthRule.DECLARED)
            .unimplementedReads(-1L)
            .register(narrow, 0x1234, FieldAccess.RW)
            .register(wide, -1L, FieldAccess.RW)
            .build();

    assertThat(edu.getLongVolatile(0x00)).as("64-bit read of a 32-bit register").isEqualTo(-1L);
    edu.putLongVolatile(0x00, 0);
    assertThat(edu.getIntVolatile(0x00)).as("64-bit write dropped").isEqualTo(0x1234);
    edu.putIntVolatile(0x80, 0x5);
    assertThat(edu.getLongVolatile(0x80)).as("32-bit write zero-extends").isEqualTo(5);
    assertThat(edu.getIntVolatile(0x84)).as("upper half is not decoded").isEqualTo(-1);
    assertThat(edu.getIntVolatile(0x40)).as("undeclared").isEqualTo(-1);
  }

  @Test
  void spaceBeyondTheLastRegisterReadsAsUnimplemented() {
    registers.putIntVolatile(0x80, 0xffffffff);

    assertThat(registers.getIntVolatile(0x80)).isZero();
    assertThat(registers.getLongVolatile(0xf8)).isZero();
  }

  @Test
  void theDeviceSideSetsReadOnlyBitsAndResetRestoresEverything() {
    registers.store(STATUS, 0xffff_ffffL);
    registers.putIntVolatile(0x08, 1);
    assertThat(registers.value(STATUS)).isEqualTo(0xffff_ffffL);

    registers.reset();

    assertThat(registers.getIntVolatile(0x08)).isEqualTo(0xabcd);
    assertThat(registers.getIntVolatile(0x0c)).isZero();
  }

  @Test
  void hostAccessesAreTracedOnceAttached() {
    Trace trace = new Trace(16, () -> 42);
    registers.traceTo(trace, "BAR0 of test");

    registers.putIntVolatile(0x08, 0x55);
    registers.getIntVolatile(0x08);

    assertThat(trace.events())
        .extracting(TraceEvent::kind, TraceEvent::address, TraceEvent::value)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(TraceEvent.Kind.REGISTER_WRITE, 0x08L, 0x55L),
            org.assertj.core.groups.Tuple.tuple(TraceEvent.Kind.REGISTER_READ, 0x08L, 0x55L));
    assertThat(trace.toString()).contains("REGISTER_WRITE", "BAR0 of test", "0x8 = 0x55");
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
  void theBuilderRefusesOverlappingMisplacedOrUnknownRegisters() {
    assertThatThrownBy(() ->
            RegisterFile.builder("BAR0", 0x100)
                .register(new Register("A", 0x00, 8), 0, FieldAccess.RO)
                .register(new Register("B", 0x04, 4), 0, FieldAccess.RW))
        .hasMessage("B@0x4/32 overlaps A@0x0/64");
    assertThatThrownBy(() ->
            RegisterFile.builder("BAR0", 0x100)
                .register(new Register("A", 0x02, 4), 0, FieldAccess.RW))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() ->
            RegisterFile.builder("BAR0", 0x100)
                .register(new Register("A", 0x00, 2), 0, FieldAccess.RW))
        .hasMessageContaining("32 or 64 bits");
    assertThatThrownBy(
            () -> RegisterFile.builder("BAR0", 0x100).field(STATUS_ERROR, FieldAccess.RW))
        .hasMessageContaining("declare STATUS@0xc/32 before its field ERROR");
    assertThatThrownBy(() -> registers.value(new Register("X", 0x40, 4)))
        .hasMessage("X@0x40/32 is not a register of BAR0");
  }

  @Test
  void concurrentWritesToBothHalvesOfOneWordLoseNothing() throws Exception {
    RegisterFile shared =
        RegisterFile.builder("BAR0", 8)
            .register(new Register("LOW", 0x0, 4), 0, FieldAccess.RW)
            .register(new Register("HIGH", 0x4, 4), 0, FieldAccess.RW)
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
