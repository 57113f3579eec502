/**
 * {@code @PciDevice}: a JUnit Jupiter extension that hands a test a simulated or a real PCI device.
 */
// Awaitility 4.3.0 has no module name of its own: its jar's file name gives it, "awaitility".
// Should a later Awaitility name itself (awaitility/awaitility#205), requires static must follow.
@SuppressWarnings("requires-automatic")
module dev.upcie.junit {
  requires transitive dev.upcie.core;
  requires transitive dev.upcie.sim;
  requires transitive org.junit.jupiter.api;

  exports dev.upcie.junit;

  // Optional: only tests that use these packages need AssertJ (3.27) and Awaitility (4.3).
  // dev.upcie.assertj's API is AssertJ's types; dev.upcie.await's uses none of Awaitility's.
  requires static transitive org.assertj.core;
  requires static awaitility;

  exports dev.upcie.assertj;
  exports dev.upcie.await;

  // JUnit instantiates the extension reflectively.
  opens dev.upcie.junit to
      org.junit.platform.commons;
}
