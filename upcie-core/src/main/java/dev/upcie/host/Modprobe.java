package dev.upcie.host;

import dev.upcie.support.EnvironmentException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs {@code modprobe}, the one program a real host needs to load a driver's module. */
final class Modprobe {
  private static final List<String> DIRECTORIES = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

  private Modprobe() {}

  /** Loads {@code module} with this machine's {@code modprobe}. */
  static void load(String module) {
    if (module.isBlank() || !module.matches("[A-Za-z0-9_.:*-]+")) {
      throw new IllegalArgumentException("not a module name or alias: \"" + module + "\"");
    }
    Path modprobe = find();
    Process process;
    try {
      process =
          new ProcessBuilder(List.of(modprobe.toString(), "--", module))
              .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
    } catch (IOException e) {
      throw new EnvironmentException("cannot run " + modprobe + ": " + e.getMessage(), e);
    }
    try {
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        throw new EnvironmentException(
            "`"
                + modprobe
                + " "
                + module
                + "` did not finish within 60 s (process "
                + process.pid()
                + " is still loading it; see dmesg)");
      }
      if (process.exitValue() != 0) {
        String error =
            new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        throw new EnvironmentException(
            "`"
                + modprobe
                + " "
                + module
                + "` failed: "
                + (error.isEmpty() ? "exit status " + process.exitValue() : error)
                + "; loading modules needs root, and the module must exist for this kernel"
                + " (`upcie devbind doctor` shows which VFIO and UIO modules it has)");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EnvironmentException("interrupted while `modprobe " + module + "` ran", e);
    } catch (IOException e) {
      throw new EnvironmentException("cannot read what modprobe reported: " + e.getMessage(), e);
    }
  }

  private static Path find() {
    List<String> places = new ArrayList<>(DIRECTORIES);
    String path = System.getenv("PATH");
    if (path != null) {
      places.addAll(List.of(path.split(":")));
    }
    for (String dir : places) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "modprobe");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new EnvironmentException(
        "no modprobe in " + String.join(", ", places) + "; install it with `apt-get install kmod`");
  }
}
