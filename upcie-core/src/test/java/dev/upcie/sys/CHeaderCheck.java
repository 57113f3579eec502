package dev.upcie.sys;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Compiles a C program against system headers and compares C expressions with the values the Java
 * code uses: ioctl numbers, constants, {@code sizeof} and {@code offsetof}.
 *
 * <p>Skipped (with the reason) where there is no C compiler or header, unless the system property
 * {@code upcie.ci} is true: CI installs both, so there a missing compiler is a failure.
 */
public final class CHeaderCheck {
  private final List<String> includes;
  private final Map<String, Long> expected = new LinkedHashMap<>();

  public CHeaderCheck(String... includes) {
    this.includes = List.of(includes);
  }

  /** Expects the C expression {@code expression} to evaluate to {@code value}. */
  public CHeaderCheck expect(String expression, long value) {
    expected.put(expression, value);
    return this;
  }

  /** Expects {@code sizeof} and every named member's {@code offsetof} of a struct to match. */
  public CHeaderCheck expectStruct(StructLayout layout) {
    String type = "struct " + layout.name().orElseThrow(() -> new AssertionError("unnamed"));
    expect("sizeof(" + type + ")", layout.byteSize());
    long offset = 0;
    for (MemoryLayout member : layout.memberLayouts()) {
      if (!(member instanceof PaddingLayout) && member.name().isPresent()) {
        expect("offsetof(" + type + ", " + member.name().get() + ")", offset);
        if (member instanceof GroupLayout) {
          expect("sizeof(((" + type + " *)0)->" + member.name().get() + ")", member.byteSize());
        }
      }
      offset += member.byteSize();
    }
    return this;
  }

  /** Compiles, runs and asserts that every expression matches. */
  public void verify(Path workDir) throws IOException, InterruptedException {
    boolean required = Boolean.getBoolean("upcie.ci");
    String cc = findCompiler();
    if (cc == null) {
      assertThat(required).as("no C compiler (cc or gcc) on PATH, but upcie.ci=true").isFalse();
      Assumptions.abort("no C compiler (cc or gcc) on PATH: cannot check the layouts");
    }
    Path source = workDir.resolve("abi.c");
    Path binary = workDir.resolve("abi");
    Files.writeString(source, program(), StandardCharsets.UTF_8);
    List<String> compile =
        List.of(cc, "-std=gnu11", "-Wall", "-Werror", "-o", binary.toString(), source.toString());
    Process process = new ProcessBuilder(compile).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", compile).isTrue();
    if (process.exitValue() != 0 && output.contains("No such file or directory")) {
      String reason = "a header is missing (Debian package linux-libc-dev):\n" + output;
      assertThat(required).as(reason + "but upcie.ci=true").isFalse();
      Assumptions.abort(reason);
    }
    assertThat(process.exitValue()).as("%s failed:%n%s", compile, output).isZero();
    Map<String, Long> actual = new LinkedHashMap<>();
    for (String line : run(List.of(binary.toString())).split("\n")) {
      int tab = line.lastIndexOf('\t');
      actual.put(line.substring(0, tab), Long.parseLong(line.substring(tab + 1)));
    }
    List<String> mismatches = new ArrayList<>();
    expected.forEach((expression, javaValue) -> {
      Long cValue = actual.get(expression);
      if (!javaValue.equals(cValue)) {
        mismatches.add(expression + ": Java has " + javaValue + ", the C header " + cValue);
      }
    });
    assertThat(mismatches).as("values that differ from the C headers").isEmpty();
    assertThat(actual).as("every expression was evaluated").hasSameSizeAs(expected);
  }

  private String program() {
    StringBuilder c = new StringBuilder();
    c.append("#include <stdio.h>\n#include <stddef.h>\n");
    for (String include : includes) {
      c.append("#include <").append(include).append(">\n");
    }
    c.append("int main(void) {\n");
    for (String expression : expected.keySet()) {
      c.append("  printf(\"%s\\t%lld\\n\", \"")
          .append(expression.replace("\"", "\\\""))
          .append("\", (long long)(")
          .append(expression)
          .append("));\n");
    }
    c.append("  return 0;\n}\n");
    return c.toString();
  }

  private static String findCompiler() {
    for (String name : List.of("cc", "gcc")) {
      for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
        if (Files.isExecutable(Path.of(dir, name))) {
          return Path.of(dir, name).toString();
        }
      }
    }
    return null;
  }

  private static String run(List<String> command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
    assertThat(process.exitValue()).as("%s failed:%n%s", command, output).isZero();
    return output;
  }
}
