package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

/** What a run of {@code upcie} produced, in process or as a separate JVM. */
record CommandResult(int exit, String out, String err) {

  /** Asserts the way every user error must look: one {@code upcie:} line, a distinct status. */
  void assertOneLineError(int expectedExit, String message) {
    assertThat(exit).as("exit status; stderr: %s", err).isEqualTo(expectedExit);
    assertThat(out).isEmpty();
    assertThat(err.lines()).hasSize(1).first().asString().startsWith("upcie: ").contains(message);
  }

  /** For commands that also print results: exactly one line on stderr, starting as given. */
  void assertOneLineErrorOnStderr(String start) {
    assertThat(err.lines()).singleElement().asString().startsWith(start);
  }
}
