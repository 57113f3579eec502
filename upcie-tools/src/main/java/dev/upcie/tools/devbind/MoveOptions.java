package dev.upcie.tools.devbind;

import dev.upcie.pci.BindCheck;
import dev.upcie.pci.BindOptions;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.UsageException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import picocli.CommandLine.Option;

/** The options every command that moves functions between drivers takes. */
public final class MoveOptions {
  @Option(
      names = "--dry-run",
      description =
          "Print the exact sysfs writes, in order, and the safety checks' findings; change"
              + " nothing.")
  boolean dryRun;

  @Option(
      names = "--force",
      split = ",",
      paramLabel = "CHECK",
      description =
          "Override this safety check, and only this one: mounted, swap, held, open, network,"
              + " group. Repeat or separate with commas.")
  List<String> force = List.of();

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description =
          "How long an unbind may block in the kernel before giving up on it (default: 10).")
  int timeoutSeconds;

  @Option(
      names = "--json",
      description = "Print the outcome as JSON (schema " + Mover.SCHEMA + ").")
  boolean json;

  /**
   * Refuses a copied tree ({@code --sysfs-root DIR}) unless this is a dry run: no kernel stands
   * behind a copy to carry a move out.
   */
  void requireKernel(SysfsOption sysfs) {
    if (sysfs.isSet() && !sysfs.isSimulated() && !dryRun) {
      throw new UsageException(
          "--sysfs-root "
              + sysfs.root()
              + " is a copy with no kernel behind it, so it takes moves only with --dry-run;"
              + " simulate one with --sysfs-root "
              + SysfsOption.SIMULATED
              + " or a umockdev recording");
    }
  }

  /** The checks named by {@code --force}. */
  BindCheck[] forced() {
    return force.stream()
        .map(name ->
            BindCheck.named(name)
                .orElseThrow(() ->
                    new UsageException(
                        "--force="
                            + name
                            + ": no such check; the checks are "
                            + Arrays.stream(BindCheck.values())
                                .map(BindCheck::forceName)
                                .collect(Collectors.joining(", ")))))
        .toArray(BindCheck[]::new);
  }

  /** The binder's options these make, with the override kept or not. */
  BindOptions bindOptions(boolean keepOverride) {
    if (timeoutSeconds < 1 || timeoutSeconds > 3600) {
      throw new UsageException(
          "--timeout " + timeoutSeconds + ": give a number of seconds from 1 to 3600");
    }
    BindOptions options =
        BindOptions.defaults()
            .forcing(forced())
            .withUnbindTimeout(Duration.ofSeconds(timeoutSeconds));
    return keepOverride ? options : options.transientOverride();
  }
}
