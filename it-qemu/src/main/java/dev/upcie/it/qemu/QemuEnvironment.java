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
 * <p>The kernel is pinned by the system property {@code upcie.qemu.kernel}, a kernel release such
 * as {@code 6.1.0-57-amd64} ({@code ci/run} passes the one Debian's {@code linux-image-amd64}
 * depends on): its image is {@code <root>/boot/vmlinuz-<release>} and its modules {@code
 * <root>/lib/modules/<release>}, where the root is {@code upcie.qemu.kernel.root} ({@code /} unless
 * set; {@code ci/nightly} points it at a kernel package unpacked in a cache, never installed). A
 * pinned kernel that is absent fails the run. Unpinned, the newest kernel under the root with
 * vfio-pci is taken, and said so.
 *
 * <p>Where something else is missing the tests are skipped with the list of what to install, unless
 * the system property {@code upcie.ci} is true (as {@code ci/run} sets it): there a missing piece
 * fails the run, so CI can never pass without running the guest.
 *
 * @param qemu {@code qemu-system-x86_64}
 * @param release the kernel release, as {@code uname -r} prints it in the guest
 * @param kernel the kernel image, {@code <root>/boot/vmlinuz-<release>}
 * @param modules the kernel's module directory, {@code <root>/lib/modules/<release>}
 * @param busybox a statically linked busybox
 */
record QemuEnvironment(Path qemu, String release, Path kernel, Path modules, Path busybox) {
  static final String REQUIRED_PROPERTY = "upcie.ci";

  /** System property: the guest kernel's release; unset takes the newest under the root. */
  static final String KERNEL_PROPERTY = "upcie.qemu.kernel";

  /** System property: the directory holding {@code boot/} and {@code lib/modules/}; {@code /}. */
  static final String KERNEL_ROOT_PROPERTY = "upcie.qemu.kernel.root";

  /** Finds the environment, or skips (or fails, where required) saying what is missing. */
  static QemuEnvironment require() throws IOException {
    List<String> missing = new ArrayList<>();
    Path qemu = onPath("qemu-system-x86_64");
    if (qemu == null) {
      missing.add("qemu-system-x86_64 (Debian package qemu-system-x86)");
    }
    Path root = Path.of(System.getProperty(KERNEL_ROOT_PROPERTY, "/"));
    String pinned = System.getProperty(KERNEL_PROPERTY, "");
    Optional<String> release = kernel(root, pinned);
    if (release.isEmpty()) {
      missing.add(
          "a kernel image "
              + root.resolve("boot/vmlinuz-*")
              + " with its modules in "
              + root.resolve("lib/modules")
              + ", including vfio-pci (Debian package linux-image-amd64)");
    } else if (pinned.isEmpty()) {
      System.out.printf(
          "QEMU guest kernel: %s, the newest under %s (set %s to pin one)%n",
          release.get(), root, KERNEL_PROPERTY);
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
    return new QemuEnvironment(
        qemu, release.get(), image(root, release.get()), modules(root, release.get()), busybox);
  }

  /**
   * Whether the modules are somewhere other than where the guest's {@code modprobe} looks, {@code
   * /lib/modules/<release>} of the host root it mounts: then the guest mounts them there.
   */
  boolean modulesOutsideHostRoot() {
    return !modules.equals(Path.of("/lib/modules", release));
  }

  /**
   * The release of the kernel to boot under {@code root}: {@code pinned} unless empty, else the
   * newest that can boot a guest, or empty if there is none.
   *
   * @throws AssertionError if {@code pinned} names a kernel that is absent or lacks what a guest
   *     needs, saying what is missing and what to do
   */
  static Optional<String> kernel(Path root, String pinned) throws IOException {
    if (pinned.isEmpty()) {
      return newestKernel(root);
    }
    String problem = problem(root, pinned);
    if (problem != null) {
      throw new AssertionError(
          String.format(
              "the pinned guest kernel %s=%s under %s=%s cannot boot: %s. Install it (ci/run pins"
                  + " the kernel Debian's linux-image-amd64 depends on, which ci/setup installs),"
                  + " or pin one that is present",
              KERNEL_PROPERTY, pinned, KERNEL_ROOT_PROPERTY, root, problem));
    }
    return Optional.of(pinned);
  }

  /** What is wrong with kernel {@code release} under {@code root}, or null if it can boot. */
  private static String problem(Path root, String release) {
    Path image = image(root, release);
    Path modules = modules(root, release);
    if (!Files.isReadable(image)) {
      return "no readable kernel image " + image;
    }
    if (!Files.exists(modules.resolve("modules.dep"))) {
      return "no "
          + modules.resolve("modules.dep")
          + " (run depmod -b "
          + root
          + " "
          + release
          + ")";
    }
    if (!hasVfioPci(modules)) {
      return "no vfio-pci module in " + modules;
    }
    return null;
  }

  /** The newest kernel under {@code root} that can boot a guest. */
  private static Optional<String> newestKernel(Path root) throws IOException {
    Path boot = root.resolve("boot");
    if (!Files.isDirectory(boot)) {
      return Optional.empty();
    }
    try (Stream<Path> images = Files.list(boot)) {
      return images
          .map(p -> p.getFileName().toString())
          .filter(name -> name.startsWith("vmlinuz-"))
          .map(name -> name.substring("vmlinuz-".length()))
          .filter(release -> problem(root, release) == null)
          .max(Comparator.naturalOrder());
    }
  }

  private static Path image(Path root, String release) {
    return root.resolve("boot/vmlinuz-" + release);
  }

  private static Path modules(Path root, String release) {
    return root.resolve("lib/modules/" + release);
  }

  /** Debian 12's 6.1 ships plain {@code .ko} files; its backports' 6.12 compresses them. */
  private static boolean hasVfioPci(Path modules) {
    Path dir = modules.resolve("kernel/drivers/vfio/pci");
    return Files.exists(dir.resolve("vfio-pci.ko")) || Files.exists(dir.resolve("vfio-pci.ko.xz"));
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
