package dev.upcie.register;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class RegisterValueTest {
  private static final Register CSTS = new Register("CSTS", 0x1c, 4);
  private static final Register CAP = new Register("CAP", 0x00, 8);
  private static final Field RDY = CSTS.field("RDY", 0, 1);
  private static final Field SHST = CSTS.field("SHST", 2, 2);
  private static final Field EN = new Register("CC", 0x14, 4).field("EN", 0, 1);

  @Test
  void fieldsComeFromTheValueOfTheirOwnRegister() {
    RegisterValue csts = new RegisterValue(CSTS, 0b1001);

    assertThat(csts.field(RDY)).isEqualTo(1);
    assertThat(csts.field(SHST)).isEqualTo(2);
    assertThat(csts.isSet(RDY)).isTrue();
  }

  @Test
  void aFieldOfAnotherRegisterIsRefusedNamingBoth() {
    RegisterValue csts = new RegisterValue(CSTS, 1);

    assertThatThrownBy(() -> csts.field(EN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("CC.EN[0] is a field of CC@0x14/32, not of CSTS@0x1c/32: read CC to get it");
    assertThatThrownBy(() -> csts.isSet(EN)).hasMessageContaining("not of CSTS@0x1c/32");
  }

  @Test
  void aValueWiderThanItsRegisterIsRefused() {
    assertThatThrownBy(() -> new RegisterValue(CSTS, 0x1_0000_0000L))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("0x100000000 does not fit in CSTS@0x1c/32");
    assertThat(new RegisterValue(CAP, -1L).value()).as("64 bits, all set").isEqualTo(-1L);
  }

  @Test
  void printsAsWideAsTheRegister() {
    assertThat(new RegisterValue(CSTS, 1)).hasToString("CSTS = 0x00000001");
    assertThat(new RegisterValue(CAP, 0x4018200f0107ffL).hex()).isEqualTo("0x004018200f0107ff");
    assertThat(new RegisterValue(new Register("CMD", 4, 2), 0x406).hex()).isEqualTo("0x0406");
  }
}
