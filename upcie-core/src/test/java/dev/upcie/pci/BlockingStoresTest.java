package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.upcie.sysfs.Sysfs;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stores on a real file system run in a child process: done in order, refused with the shell's
 * reason, and, when they block, left to the child while the caller gets on.
 */
class BlockingStoresTest {

  @Test
  void storesAreWrittenInOrderByAChild(@TempDir Path root) throws Exception {
    Files.writeString(root.resolve("unbind"), "");
    Files.writeString(root.resolve("drivers_probe"), "");

    Optional<BlockingStores.Pending> pending =
        BlockingStores.run(
            Sysfs.of(root),
            List.of(
                new BlockingStores.Store("unbind", "0000:00:05.0"),
                new BlockingStores.Store("drivers_probe", "0000:00:05.0")),
            Duration.ofSeconds(10));

    assertThat(pending).isEmpty();
    assertThat(root.resolve("unbind")).hasContent("0000:00:05.0");
    assertThat(root.resolve("drivers_probe")).hasContent("0000:00:05.0");
  }

  @Test
  void aRefusedStoreStopsTheRestAndSaysWhy(@TempDir Path root) throws Exception {
    Files.writeString(root.resolve("drivers_probe"), "");

    assertThatThrownBy(() ->
            BlockingStores.run(
                Sysfs.of(root),
                List.of(
                    new BlockingStores.Store("absent/unbind", "0000:00:05.0"),
                    new BlockingStores.Store("drivers_probe", "0000:00:05.0")),
                Duration.ofSeconds(10)))
        .isInstanceOf(PciException.class)
        .hasMessageStartingWith("writing 0000:00:05.0 to " + root.resolve("absent/unbind"))
        .hasMessageContaining("failed: ")
        .hasMessageContaining("nonexistent");
    assertThat(root.resolve("drivers_probe")).as("not reached").hasContent("");
  }

  @Test
  void aStoreThatBlocksIsLeftToTheChildWhichFinishesItLater(@TempDir Path root) throws Exception {
    // Opening a FIFO for writing blocks until a reader comes: a store the kernel holds up.
    Path fifo = root.resolve("unbind");
    assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
    Files.writeString(root.resolve("drivers_probe"), "");

    Optional<BlockingStores.Pending> pending =
        BlockingStores.run(
            Sysfs.of(root),
            List.of(
                new BlockingStores.Store("unbind", "0000:00:05.0"),
                new BlockingStores.Store("drivers_probe", "0000:00:05.0")),
            Duration.ofMillis(300));

    assertThat(pending).isPresent();
    assertThat(pending.get().worker()).matches("process \\d+");
    assertThat(root.resolve("drivers_probe")).hasContent("");
    try (InputStream reader = Files.newInputStream(fifo)) {
      assertThat(new String(reader.readAllBytes())).isEqualTo("0000:00:05.0");
    }
    await()
        .untilAsserted(() -> assertThat(root.resolve("drivers_probe")).hasContent("0000:00:05.0"));
  }
}
