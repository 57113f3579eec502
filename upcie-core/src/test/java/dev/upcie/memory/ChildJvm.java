package dev.upcie.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * Runs a class of this module in another JVM, optionally as another user: for tests about other
 * processes (importing shared hugepages) and about privilege (what {@code nobody} may see).
 */
final class ChildJvm {
  record Result(int exit, String out) {}

  private ChildJvm() {}

  /**
   * Runs {@code main} with {@code args}; as {@code nobody} when {@code asNobody}, through setpriv.
   *
   * <p>The classes are copied into a directory of this run's own under the temporary directory
   * (which every user can traverse), made world-readable, and removed afterwards, since the
   * checkout may not be readable by {@code nobody}. They come from wherever this JVM loaded them:
   * class directories, or jars in the QEMU guest. No other directory's permissions are touched.
   */
  static Result run(boolean asNobody, Class<?> main, String... args)
      throws IOException, InterruptedException {
    Path workDir = Files.createTempDirectory("upcie-child-");
    try {
      List<String> classpath = new ArrayList<>();
      int n = 0;
      for (Class<?> from : List.of(HugepageRegion.class, main)) {
        Path source = codeSource(from);
        Path copy = workDir.resolve("cp" + n++ + (Files.isDirectory(source) ? "" : ".jar"));
        if (Files.isDirectory(source)) {
          copy(source, copy);
        } else {
          Files.copy(source, copy);
        }
        classpath.add(copy.toString());
      }
      openUp(workDir);
      List<String> command = new ArrayList<>();
      if (asNobody) {
        command.addAll(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"));
      }
      command.addAll(
          List.of(
              Path.of(System.getProperty("java.home"), "bin", "java").toString(),
              "--enable-native-access=ALL-UNNAMED",
              "-cp",
              String.join(":", classpath),
              main.getName()));
      command.addAll(List.of(args));
      Path output = workDir.resolve("child-output.txt");
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(output.toFile())
              .start();
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command).isTrue();
      return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    } finally {
      deleteRecursively(workDir);
    }
  }

  private static Path codeSource(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : files.sorted(Comparator.naturalOrder()).toList()) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.REPLACE_EXISTING);
        }
      }
    }
  }

  /** Makes the work directory and everything in it readable by all; nothing above it. */
  private static void openUp(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.toList()) {
        Files.setPosixFilePermissions(
            p, PosixFilePermissions.fromString(Files.isDirectory(p) ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
