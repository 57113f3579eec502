package dev.upcie.tools;

import static java.nio.file.StandardCopyOption.COPY_ATTRIBUTES;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The launcher {@code ./upcie} and the AOT cache the build trains: the JVM starts with the cache
 * when it fits, and the command's output is the same whether the cache is used, stale, damaged,
 * missing or from another JDK. Each test runs a copy of the launcher beside copies of the jar and
 * cache; with no sources beside them, the launcher never builds.
 */
class LauncherIT {
  private static final Path REPOSITORY = Path.of("..").toAbsolutePath().normalize();
  private static final Path TARGET = Path.of("target").toAbsolutePath();
  private static final String[] COMMAND = {
    "devbind", "list", "--sysfs-root", SysfsOption.SIMULATED, "--pci-ids", "none"
  };

  @TempDir Path root;
  private Path launcher;
  private Path jar;
  private Path cache;
  private Path classLog;

  @BeforeEach
  void copyTheLauncherTheJarAndTheCache() throws IOException {
    assertThat(TARGET.resolve("upcie.aot")).as("the AOT cache `mvn package` trains").exists();
    launcher = root.resolve("upcie");
    Files.copy(REPOSITORY.resolve("upcie"), launcher, COPY_ATTRIBUTES);
    Files.createDirectories(root.resolve("ci/lib"));
    Files.copy(REPOSITORY.resolve("ci/lib/jdk.sh"), root.resolve("ci/lib/jdk.sh"));
    Path target = Files.createDirectories(root.resolve("upcie-tools/target"));
    for (String file : List.of("upcie.jar", "upcie.aot", "upcie.aot.jdk")) {
      Files.copy(TARGET.resolve(file), target.resolve(file), COPY_ATTRIBUTES);
    }
    jar = target.resolve("upcie.jar");
    cache = target.resolve("upcie.aot");
    classLog = root.resolve("classes.txt");
  }

  @Test
  void aFittingCacheIsUsedWithTheLaunchersOwnOptions() throws Exception {
    CommandResult r = launch(Map.of());

    assertThat(r.exit()).isZero();
    assertThat(r.err()).as("nothing but the listing").isEmpty();
    assertThat(r.out()).contains("0000:00:05.0  1b36:0010");
    assertThat(classLoadedFrom("dev.upcie.tools.Upcie")).isEqualTo("shared objects file");
  }

  @Test
  void aCacheOlderThanTheJarIsNotGiven() throws Exception {
    String expected = launch(Map.of()).out();
    Files.setLastModifiedTime(cache, FileTime.fromMillis(0));

    CommandResult r = launch(Map.of("UPCIE_LAUNCHER_DEBUG", "1"));

    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEqualTo(expected);
    assertThat(r.err()).contains("AOT cache older than the jar, not used");
    assertThat(classLoadedFrom("dev.upcie.tools.Upcie")).startsWith("file:");
  }

  @Test
  void aDamagedCacheCostsTimeNeverTheOutput() throws Exception {
    String expected = launch(Map.of()).out();
    byte[] bytes = Files.readAllBytes(cache);
    Files.write(cache, Arrays.copyOf(bytes, bytes.length / 3));
    Files.setLastModifiedTime(
        cache, FileTime.fromMillis(Files.getLastModifiedTime(jar).toMillis() + 60_000));

    CommandResult r = launch(Map.of());

    assertThat(r.exit()).isZero();
    assertThat(r.out()).as("no JVM complaint mixed into the listing").isEqualTo(expected);
    assertThat(r.err()).isEmpty();
  }

  @Test
  void aMissingCacheOrOneFromAnotherJdkIsNotGiven() throws Exception {
    String expected = launch(Map.of()).out();
    Files.writeString(cache.resolveSibling("upcie.aot.jdk"), "/opt/another-jdk\n");

    CommandResult other = launch(Map.of("UPCIE_LAUNCHER_DEBUG", "1"));

    assertThat(other.out()).isEqualTo(expected);
    assertThat(other.err()).contains("AOT cache made by /opt/another-jdk");
    assertThat(classLoadedFrom("dev.upcie.tools.Upcie")).startsWith("file:");

    Files.delete(cache);
    CommandResult missing = launch(Map.of());

    assertThat(missing.exit()).isZero();
    assertThat(missing.out()).isEqualTo(expected);
    assertThat(missing.err()).isEmpty();
  }

  /**
   * Runs the launcher copy on {@link #COMMAND}, with this JVM's JDK; the JVM logs where it loaded
   * each class from to {@link #classLog} (JDK_JAVA_OPTIONS adds to the launcher's options).
   */
  private CommandResult launch(Map<String, String> environment) throws Exception {
    Path out = root.resolve("out.txt");
    Path err = root.resolve("err.txt");
    ProcessBuilder builder =
        new ProcessBuilder(
                Stream.concat(Stream.of(launcher.toString()), Arrays.stream(COMMAND)).toList())
            .redirectOutput(out.toFile())
            .redirectError(err.toFile());
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().remove("UPCIE_JAVA_OPTS");
    builder.environment().remove("UPCIE_LAUNCHER_DEBUG");
    builder.environment().put("JDK_JAVA_OPTIONS", "-Xlog:class+load=info:file=" + classLog);
    builder.environment().putAll(environment);
    Process process = builder.start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError(launcher + " did not finish in 60 s");
    }
    // The java launcher announces JDK_JAVA_OPTIONS on stderr: that line is this test's doing.
    String errors =
        Files.readString(err, StandardCharsets.UTF_8)
            .lines()
            .filter(line -> !line.startsWith("NOTE: Picked up JDK_JAVA_OPTIONS"))
            .map(line -> line + "\n")
            .reduce("", String::concat);
    return new CommandResult(
        process.exitValue(), Files.readString(out, StandardCharsets.UTF_8), errors);
  }

  /** Where the last launch loaded the class from: "shared objects file" (the cache) or a URL. */
  private String classLoadedFrom(String name) throws IOException {
    String prefix = name + " source: ";
    return Files.readAllLines(classLog).stream()
        .map(line -> line.substring(line.indexOf("] ", line.indexOf("[class,load]")) + 2))
        .filter(line -> line.startsWith(prefix))
        .map(line -> line.substring(prefix.length()))
        .findFirst()
        .orElseThrow(() -> new AssertionError(name + " not loaded"));
  }
}
