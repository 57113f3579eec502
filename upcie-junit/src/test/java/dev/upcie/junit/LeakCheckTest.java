package dev.upcie.junit;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The check behind real devices fails when a device resource stays open and passes when it is
 * closed. (The QEMU guests run it through the extension, on VFIO and UIO.)
 */
class LeakCheckTest {

  @Test
  void aDescriptorLeftOpenIsNamed() throws IOException {
    LeakCheck check = LeakCheck.start();
    try (FileChannel leaked = FileChannel.open(Path.of("/dev/null"))) {
      assertThatThrownBy(check::close)
          .isInstanceOf(AssertionError.class)
          .hasMessageStartingWith(
              "the test left device resources behind (@PciDeviceSettings(checkLeaks = false) to"
                  + " allow it): descriptor /dev/null");
    }
  }

  @Test
  void aTidyTestPasses() throws IOException {
    LeakCheck check = LeakCheck.start();
    try (FileChannel channel = FileChannel.open(Path.of("/dev/null"))) {
      channel.size();
    }

    assertThatCode(check::close).doesNotThrowAnyException();
  }
}
