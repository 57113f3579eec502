/**
 * {@code @PciDevice}: a JUnit Jupiter extension that hands a test a simulated or a real PCI device.
 */
module dev.upcie.junit {
  requires transitive dev.upcie.core;
  requires transitive dev.upcie.sim;
  requires transitive org.junit.jupiter.api;

  exports dev.upcie.junit;

  // Optional: only tests that use dev.upcie.assertj need AssertJ (3.27); its API is AssertJ's.
  requires static transitive org.assertj.core;

  exports dev.upcie.assertj;

  // JUnit instantiates the extension reflectively.
  opens dev.upcie.junit to
      org.junit.platform.commons;
}
