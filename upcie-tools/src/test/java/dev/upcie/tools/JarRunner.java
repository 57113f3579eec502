package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the packaged {@code upcie.jar} as users run it, optionally behind a prefix (setpriv). */
final class JarRunner {
  /** The shaded jar {@code mvn package} builds. */
  static final Path JAR = Path.of("target/upcie.jar").toAbsolutePath();

  private JarRunner() {}

  /** {@code prefix... java -jar jar args...}, output captured through files (no pipe deadlock). */
  static CommandResult run(List<String> prefix, Path jar, String... args) throws Exception {
    assertThat(jar).as("the shaded jar; run `mvn package` first").exists();
    List<String> command = new ArrayList<>(prefix);
    command.addAll(
        List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-jar",
            jar.toString()));
    command.addAll(List.of(args));
    Path out = Files.createTempFile("upcie-out", ".txt");
    Path err = Files.createTempFile("upcie-err", ".txt");
    try {
      Process process =
          new ProcessBuilder(command)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(command + " did not finish in 60 s");
      }
      return new CommandResult(
          process.exitValue(),
          Files.readString(out, StandardCharsets.UTF_8),
          Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      Files.delete(out);
      Files.delete(err);
    }
  }
}
