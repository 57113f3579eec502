package dev.upcie.kernel;

/** Runs the steps of a close in order, every one of them even when an earlier one fails. */
public final class Cleanup {
  private Cleanup() {}

  /**
   * Runs {@code steps} in order; if any throw, rethrows the first failure with the later ones
   * suppressed, after all have run.
   *
   * <pre>{@code
   * Cleanup.all(config::disableBusMaster, interrupts::disable, arena::close);
   * }</pre>
   */
  public static void all(Runnable... steps) {
    Throwable failure = null;
    for (Runnable step : steps) {
      try {
        step.run();
      } catch (RuntimeException | Error e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    switch (failure) {
      case null -> {}
      case RuntimeException e -> throw e;
      case Error e -> throw e;
      default -> throw new AssertionError(failure); // a Runnable throws nothing checked
    }
  }
}
