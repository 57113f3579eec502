package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PciAddressTest {
  @ParameterizedTest
  @CsvSource({
    "0000:00:04.0, 0, 0, 4, 0",
    "00:04.0, 0, 0, 4, 0",
    "0000:3B:1f.7, 0, 0x3b, 0x1f, 7",
    "10000:01:00.1, 0x10000, 1, 0, 1",
    "ffff:ff:1f.7, 0xffff, 0xff, 0x1f, 7",
    "' 0000:00:04.0\n', 0, 0, 4, 0"
  })
  void parsesTheKernelAndTheShortForm(String text, String domain, String bus, String dev, int fn) {
    PciAddress address = PciAddress.parse(text);

    assertThat(address)
        .isEqualTo(
            new PciAddress(Integer.decode(domain), Integer.decode(bus), Integer.decode(dev), fn));
  }

  @Test
  void formatsTheKernelFormWhateverTheInput() {
    assertThat(PciAddress.parse("3b:0A.1")).hasToString("0000:3b:0a.1");
    assertThat(PciAddress.parse("10000:00:00.0")).hasToString("10000:00:00.0");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "zz",
        "0000:00:04",
        "0000:00:04.8",
        "0000:00:20.0",
        "00:004.0",
        "0:0:0:0.0",
        "0000:100:00.0",
        "123456789:00:00.0",
        "0000-00-04.0"
      })
  void rejectsMalformedAddressesNamingTheInputAndTheForms(String text) {
    assertThatThrownBy(() -> PciAddress.parse(text))
        .isInstanceOf(InvalidPciAddressException.class)
        .hasMessageContaining("\"" + text + "\"")
        .hasMessageContaining("dddd:bb:dd.f or bb:dd.f");
  }

  @Test
  void rejectsOutOfRangeComponents() {
    assertThatThrownBy(() -> new PciAddress(0, 0x100, 0, 0)).hasMessageContaining("bus 0x100");
    assertThatThrownBy(() -> new PciAddress(0, 0, 0x20, 0)).hasMessageContaining("device 0x20");
    assertThatThrownBy(() -> new PciAddress(0, 0, 0, 8)).hasMessageContaining("function 0x8");
  }

  @Test
  void ordersAsTheKernelListsFunctionsWithUnsignedDomains() {
    List<PciAddress> addresses =
        new ArrayList<>(
            List.of(
                PciAddress.parse("ffffffff:00:00.0"),
                PciAddress.parse("0001:00:00.0"),
                PciAddress.parse("00:1f.3"),
                PciAddress.parse("00:02.0"),
                PciAddress.parse("00:02.1"),
                PciAddress.parse("01:00.0")));
    Collections.shuffle(addresses);
    Collections.sort(addresses);

    assertThat(addresses)
        .extracting(PciAddress::toString)
        .containsExactly(
            "0000:00:02.0",
            "0000:00:02.1",
            "0000:00:1f.3",
            "0000:01:00.0",
            "0001:00:00.0",
            "ffffffff:00:00.0");
  }
}
