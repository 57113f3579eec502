package dev.upcie.kernel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class CleanupTest {
  private final List<String> ran = new ArrayList<>();

  @Test
  void runsEveryStepInOrderWhenNoneFails() {
    Cleanup.all(() -> ran.add("a"), () -> ran.add("b"), () -> ran.add("c"));

    assertThat(ran).containsExactly("a", "b", "c");
  }

  @Test
  void runsTheLaterStepsAfterAFailureAndThrowsTheFirstWithTheRestSuppressed() {
    var first = new IllegalStateException("bus master");
    var second = new IllegalArgumentException("close");

    assertThatThrownBy(() ->
            Cleanup.all(
                () -> {
                  ran.add("a");
                  throw first;
                },
                () -> {
                  ran.add("b");
                  throw second;
                },
                () -> ran.add("c")))
        .isSameAs(first)
        .satisfies(e -> assertThat(e.getSuppressed()).containsExactly(second));
    assertThat(ran).containsExactly("a", "b", "c");
  }

  @Test
  void anErrorStillLetsTheLaterStepsRun() {
    var error = new OutOfMemoryError("arena");

    assertThatThrownBy(() ->
            Cleanup.all(
                () -> {
                  throw error;
                },
                () -> ran.add("after")))
        .isSameAs(error);
    assertThat(ran).containsExactly("after");
  }
}
