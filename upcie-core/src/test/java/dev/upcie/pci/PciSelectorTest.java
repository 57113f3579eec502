package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.support.UpcieException;
import java.util.Optional;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class PciSelectorTest {
  private static final PciFunction NVME = function("0000:00:05.0", "1b36:0010", 0x010802);
  private static final PciFunction SATA = function("0000:00:1f.2", "8086:2922", 0x010601);
  private static final PciFunction EDU = function("0000:00:06.0", "1234:11e8", 0x00ff00);

  @Test
  void classPrefixesMatchBaseSubclassOrExactCode() {
    assertThat(PciSelector.any().withClass("01").matches(SATA)).isTrue();
    assertThat(PciSelector.any().withClass("0108").matches(NVME)).isTrue();
    assertThat(PciSelector.any().withClass("0108").matches(SATA)).isFalse();
    assertThat(PciSelector.any().withClass("0x010802").matches(NVME)).isTrue();
    assertThat(PciSelector.any().withClass(PciClassCode.NVME).matches(EDU)).isFalse();
  }

  @Test
  void allCriteriaMustMatch() {
    PciSelector selector = PciSelector.any().withId(PciId.parse("1b36:0010")).withClass("0108");

    assertThat(selector.matches(NVME)).isTrue();
    assertThat(selector.withAddress(PciAddress.parse("00:04.0")).matches(NVME)).isFalse();
    assertThat(PciSelector.any().matches(EDU)).isTrue();
  }

  @Test
  void describesItselfForMessages() {
    assertThat(PciSelector.any().withId(PciId.parse("1b36:0010")).withClass("0108"))
        .hasToString("id 1b36:0010, class 0x0108xx");
    assertThat(PciSelector.any()).hasToString("any function");
  }

  @Test
  void rejectsMalformedClassCodes() {
    assertThatThrownBy(() -> PciSelector.any().withClass("108"))
        .isInstanceOf(UpcieException.class)
        .hasMessageContaining("\"108\"")
        .hasMessageContaining("2, 4 or 6 hexadecimal digits");
  }

  @Test
  void idsParseAndFormatAsLspciDoes() {
    assertThat(PciId.parse("1B36:0010"))
        .isEqualTo(new PciId(0x1b36, 0x0010))
        .hasToString("1b36:0010");
    assertThatThrownBy(() -> PciId.parse("1b36")).hasMessageContaining("vendor:device");
    assertThat(PciId.isId("00:04")).as("a mistyped address is not an id").isFalse();
    assertThatThrownBy(() -> PciId.parse("1b36:10"))
        .hasMessage(
            "invalid PCI id \"1b36:10\": expected vendor:device as two 4-digit hexadecimal"
                + " numbers, e.g. 1b36:0010");
  }

  @Test
  void classCodesNameTheCommonClasses() {
    assertThat(PciClassCode.NVME.describe()).isEqualTo("NVMe controller");
    assertThat(new PciClassCode(0x020000).describe()).isEqualTo("Ethernet controller");
    assertThat(new PciClassCode(0x00ff00).describe()).isEqualTo("Unclassified device");
    assertThat(new PciClassCode(0xffff00).describe()).isEqualTo("Unassigned class");
    assertThat(PciClassCode.NVME).hasToString("0x010802");
  }

  private static PciFunction function(String address, String id, int classCode) {
    return new PciFunction(
        PciAddress.parse(address),
        PciId.parse(id),
        PciId.parse("1af4:1100"),
        new PciClassCode(classCode),
        2,
        Optional.empty(),
        Optional.empty(),
        OptionalInt.empty(),
        OptionalInt.empty());
  }
}
