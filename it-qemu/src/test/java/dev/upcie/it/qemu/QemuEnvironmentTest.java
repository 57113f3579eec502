package dev.upcie.it.qemu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The guest kernel is the pinned one or none: a pin never falls back to another installed kernel,
 * and a missing pinned kernel fails saying what is missing. Runs on kernel trees made here, so it
 * proves the choice without booting anything.
 */
class QemuEnvironmentTest {
  @TempDir Path root;

  @Test
  void aPinnedKernelIsTakenEvenWhenANewerOneIsInstalled() throws IOException {
    kernel("6.1.0-57-amd64", "vfio-pci.ko");
    kernel("6.12.95+deb12-amd64", "vfio-pci.ko.xz");

    assertThat(QemuEnvironment.kernel(root, "6.1.0-57-amd64")).contains("6.1.0-57-amd64");
  }

  @Test
  void unpinnedTheNewestKernelWithVfioPciIsTaken() throws IOException {
    kernel("6.1.0-57-amd64", "vfio-pci.ko");
    kernel("6.12.95+deb12-amd64", "vfio-pci.ko.xz");
    kernel("6.13.0-1-amd64", null);

    assertThat(QemuEnvironment.kernel(root, "")).contains("6.12.95+deb12-amd64");
  }

  @Test
  void aPinnedKernelThatIsAbsentFailsSayingWhatToDo() throws IOException {
    kernel("6.12.95+deb12-amd64", "vfio-pci.ko.xz");

    assertThatThrownBy(() -> QemuEnvironment.kernel(root, "6.1.0-57-amd64"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("upcie.qemu.kernel=6.1.0-57-amd64")
        .hasMessageContaining(
            "no readable kernel image " + root.resolve("boot/vmlinuz-6.1.0-57-amd64"))
        .hasMessageContaining("linux-image-amd64");
  }

  @Test
  void aPinnedKernelWithoutModulesDepFailsNamingDepmod() throws IOException {
    kernel("6.12.95+deb12-amd64", "vfio-pci.ko.xz");
    Files.delete(root.resolve("lib/modules/6.12.95+deb12-amd64/modules.dep"));

    assertThatThrownBy(() -> QemuEnvironment.kernel(root, "6.12.95+deb12-amd64"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("depmod -b " + root + " 6.12.95+deb12-amd64");
  }

  @Test
  void noKernelAtAllIsEmptyUnpinned() throws IOException {
    assertThat(QemuEnvironment.kernel(root, "")).isEmpty();
  }

  /** A kernel tree: its image, modules.dep, and vfio-pci under {@code vfioPci} unless null. */
  private void kernel(String release, String vfioPci) throws IOException {
    Files.createDirectories(root.resolve("boot"));
    Files.writeString(root.resolve("boot/vmlinuz-" + release), "image");
    Path modules = Files.createDirectories(root.resolve("lib/modules/" + release));
    Files.writeString(modules.resolve("modules.dep"), "");
    if (vfioPci != null) {
      Path dir = Files.createDirectories(modules.resolve("kernel/drivers/vfio/pci"));
      Files.writeString(dir.resolve(vfioPci), "module");
    }
  }
}
