package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;

/**
 * What booting a guest needs from the host: QEMU, a Debian kernel with its modules, and a static
 * busybox.
 *
 * <p>Where something is missing the tests are skipped with the list of what to install, unless the
 * system property {@code upcie.qemu.required} is true (as {@code ci/run} sets it): there a missing
 * piece fails the run, so CI can never pass without running the guest.
 *
 * @param qemu {@code qemu-system-x86_64}
 * @param kernel the kernel image, {@code /boot/vmlinuz-<version>}
 * @param modules the kernel's module directory, {@code /lib/modules/<version>}
 * @param busybox a statically linked busybox
 */
record QemuEnvironment(Path qemu, Path kernel, Path modules, Path busybox) {
  static final String REQUIRED_PROPERTY = "upcie.ci";

  /** Finds the environment, or skips (or fails, where required) saying what is missing. */
  static QemuEnvironment require() throws IOException {
    List<String> missing = new ArrayList<>();
    Path qemu = onPath("qemu-system-x86_64");
    if (qemu == null) {
      missing.add("qemu-system-x86_64 (Debian package qemu-system-x86)");
    }
    Optional<Path> kernel = debianKernel();
    if (kernel.isEmpty()) {
      missing.add(
          "a kernel image /boot/vmlinuz-* with its modules in /lib/modules, including vfio-pci"
              + " (Debian package linux-image-amd64)");
    }
    Path busybox = Path.of("/bin/busybox");
    if (!Files.isRegularFile(busybox) || !isStatic(busybox)) {
      missing.add("a static /bin/busybox (Debian package busybox-static)");
    }
    if (!missing.isEmpty()) {
      String reason =
          "cannot boot the QEMU guest; missing: "
              + String.join("; ", missing)
              + ". ci/setup installs them.";
      assertThat(Boolean.getBoolean(REQUIRED_PROPERTY))
          .as(reason + " (" + REQUIRED_PROPERTY + "=true, so this is a failure)")
          .isFalse();
      Assumptions.abort(reason);
    }
    String version = kernel.get().getFileName().toString().substring("vmlinuz-".length());
    return new QemuEnvironment(qemu, kernel.get(), Path.of("/lib/modules", version), busybox);
  }

  /** The newest {@code /boot/vmlinuz-*} whose modules include vfio-pci. */
  private static Optional<Path> debianKernel() throws IOException {
    Path boot = Path.of("/boot");
    if (!Files.isDirectory(boot)) {
      return Optional.empty();
    }
    try (Stream<Path> images = Files.list(boot)) {
      return images
          .filter(p -> p.getFileName().toString().startsWith("vmlinuz-"))
          .filter(Files::isReadable)
          .filter(p -> {
            String version = p.getFileName().toString().substring("vmlinuz-".length());
            Path modules = Path.of("/lib/modules", version);
            return Files.exists(modules.resolve("modules.dep"))
                && Files.exists(modules.resolve("kernel/drivers/vfio/pci/vfio-pci.ko"));
          })
          .max(Comparator.comparing(p -> p.getFileName().toString()));
    }
  }

  private static boolean isStatic(Path binary) throws IOException {
    // A dynamic executable names its interpreter (ld-linux) in the first page.
    byte[] head = new byte[4096];
    try (var in = Files.newInputStream(binary)) {
      int n = in.readNBytes(head, 0, head.length);
      return !new String(head, 0, n, java.nio.charset.StandardCharsets.ISO_8859_1)
          .contains("ld-linux");
    }
  }

  private static Path onPath(String name) {
    for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(":")) {
      Path candidate = Path.of(dir, name);
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
