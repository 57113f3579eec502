package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.tools.output.Json;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonTest {
  @Test
  void escapesStringsSoAParserReadsThemBack() throws Exception {
    Map<String, Object> value = new LinkedHashMap<>();
    value.put("text", "quote \" backslash \\ newline \n tab \t bell \u0007 é");
    value.put("numbers", List.of(1, -2, Long.MAX_VALUE));
    value.put("nothing", null);
    value.put("flags", Arrays.asList(true, false, null));
    value.put("empty", Map.of());

    Object parsed = new ObjectMapper().readValue(Json.write(value), Object.class);

    assertThat(parsed).isEqualTo(value);
  }

  @Test
  void writesDoublesInPlainDecimalAndRefusesWhatJsonCannotHold() throws Exception {
    String text = Json.write(List.of(12.5, 3.0, 0.001, 1e7, -2.25));

    assertThat(text.replaceAll("\\s", "")).isEqualTo("[12.5,3,0.001,10000000,-2.25]");
    assertThat(new ObjectMapper().readTree(text).get(0).asDouble()).isEqualTo(12.5);
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> Json.write(Double.NaN))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
