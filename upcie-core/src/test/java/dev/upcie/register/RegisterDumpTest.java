package dev.upcie.register;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RegisterDumpTest {
  // QEMU's edu: a name longer than the usual column, and a register without fields.
  private static final Register ID = new Register("ID", 0x00, 4);
  private static final Register STATUS = new Register("STATUS", 0x20, 4);
  private static final Register INTERRUPT_STATUS = new Register("INTERRUPT_STATUS", 0x24, 4);
  private static final Register DMA_SOURCE = new Register("DMA_SOURCE", 0x80, 8);
  private static final Field COMPUTING = STATUS.field("COMPUTING", 0, 1);
  private static final Field IRQFACT = STATUS.field("IRQFACT", 7, 1);

  @Test
  void oneAlignedLinePerRegisterWithItsFieldsDecoded() {
    Map<Register, Long> device = Map.of(ID, 0x010000edL, STATUS, 0x81L);

    RegisterDump dump =
        RegisterDump.read(List.of(ID, STATUS), device::get, List.of(COMPUTING, IRQFACT));

    assertThat(dump.lines())
        .containsExactly("id      0x010000ed", "status  0x00000081          computing=1 irqfact=1");
    assertThat(dump)
        .hasToString(String.join(System.lineSeparator(), dump.lines()) + System.lineSeparator());
  }

  @Test
  void longNamesWidenTheNameColumnAndWideRegistersKeepTheValueColumn() {
    RegisterDump dump =
        RegisterDump.of(
            List.of(
                new RegisterValue(INTERRUPT_STATUS, 0x100),
                new RegisterValue(DMA_SOURCE, 0x40000),
                new RegisterValue(STATUS, 1)),
            List.of(COMPUTING));

    assertThat(dump.lines())
        .containsExactly(
            "interrupt_status 0x00000100",
            "dma_source       0x0000000000040000",
            "status           0x00000001          computing=1");
  }

  @Test
  void hexFieldsAndNotesAreTheCallersChoice() {
    RegisterDump dump =
        RegisterDump.of(List.of(new RegisterValue(STATUS, 0x81)), List.of(COMPUTING, IRQFACT))
            .withHexFields(List.of(IRQFACT))
            .withNotes(v -> v.isSet(COMPUTING) ? "busy" : "");

    assertThat(dump.lines())
        .containsExactly("status  0x00000081          computing=1 irqfact=0x1  (busy)");
    assertThat(dump.decode(new RegisterValue(STATUS, 0))).isEqualTo("computing=0 irqfact=0x0");
    assertThat(dump.decode(new RegisterValue(ID, 7))).as("no fields of ID").isEmpty();
  }

  @Test
  void aRegisterNotInTheDumpIsRefusedNamingWhatIsThere() {
    RegisterDump dump = RegisterDump.of(List.of(new RegisterValue(ID, 0xed)), List.of());

    assertThat(dump.value(ID).value()).isEqualTo(0xed);
    assertThatThrownBy(() -> dump.value(STATUS))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("STATUS@0x20/32 is not in this dump (it has ID)");
  }
}
