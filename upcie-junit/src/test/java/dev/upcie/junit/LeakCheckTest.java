package dev.upcie.it.device;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedSuccessfully;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.platform.testkit.engine.EngineTestKit;

/** The hygiene check fails a test that leaves a device resource open, and passes a tidy one. */
class ResourceHygieneTest {
  static final List<FileChannel> LEAKED = new ArrayList<>();

  @AfterAll
  static void closeWhatTheLeakyTestLeft() throws IOException {
    for (FileChannel channel : LEAKED) {
      channel.close();
    }
  }

  @Test
  void aLeakedDescriptorFailsTheTestAndATidyTestPasses() {
    EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(Checked.class))
        .execute()
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            event(
                test("leaks"),
                finishedWithFailure(
                    message(m ->
                        m.startsWith(
                            "the test left device resources behind: descriptor /dev/null")))))
        .haveExactly(1, event(test("tidy"), finishedSuccessfully()));
  }

  @ExtendWith(ResourceHygiene.class)
  static class Checked {
    @Test
    void leaks() throws IOException {
      LEAKED.add(FileChannel.open(Path.of("/dev/null")));
    }

    @Test
    void tidy() throws IOException {
      try (FileChannel channel = FileChannel.open(Path.of("/dev/null"))) {
        channel.size();
      }
    }
  }
}
