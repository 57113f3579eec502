package dev.upcie.pci;

import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * How {@link PciDriverBinder} moves a function: which safety checks are overridden, whether the
 * override stays, and how long the kernel may take. Immutable; start from {@link #defaults()}.
 *
 * <pre>{@code
 * BindOptions options = BindOptions.defaults().forcing(BindCheck.NETWORK).transientOverride();
 * }</pre>
 *
 * @param forced the checks not to refuse on (each overridden by name, never all at once)
 * @param keepOverride leave {@code driver_override} set after binding, so a later re-probe cannot
 *     hand the function back to a kernel driver (the default); false clears it, as dpdk-devbind
 *     does
 * @param unbindTimeout how long an unbind (and the probe after it) may block in the kernel
 * @param probeAttempts how many times {@code drivers_probe} is written before giving up
 * @param nodeTimeout how long to wait for the new driver's device node to appear under {@code /dev}
 */
public record BindOptions(
    Set<BindCheck> forced,
    boolean keepOverride,
    Duration unbindTimeout,
    int probeAttempts,
    Duration nodeTimeout) {

  /** Checks the values and copies the set. */
  public BindOptions {
    forced = forced.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(forced));
    if (unbindTimeout.isNegative() || unbindTimeout.isZero()) {
      throw new IllegalArgumentException("unbind timeout must be positive: " + unbindTimeout);
    }
    if (probeAttempts < 1) {
      throw new IllegalArgumentException("probe attempts must be at least 1: " + probeAttempts);
    }
    if (nodeTimeout.isNegative()) {
      throw new IllegalArgumentException("node timeout must not be negative: " + nodeTimeout);
    }
  }

  /** Every check made, the override kept, 10 s to unbind, 5 probes, 5 s for the node. */
  public static BindOptions defaults() {
    return new BindOptions(Set.of(), true, Duration.ofSeconds(10), 5, Duration.ofSeconds(5));
  }

  /** These options with {@code checks} overridden as well. */
  public BindOptions forcing(BindCheck... checks) {
    EnumSet<BindCheck> all = EnumSet.noneOf(BindCheck.class);
    all.addAll(forced);
    all.addAll(List.of(checks));
    return new BindOptions(all, keepOverride, unbindTimeout, probeAttempts, nodeTimeout);
  }

  /** These options clearing {@code driver_override} once bound ({@code --transient}). */
  public BindOptions transientOverride() {
    return new BindOptions(forced, false, unbindTimeout, probeAttempts, nodeTimeout);
  }

  /** These options writing {@code drivers_probe} at most {@code attempts} times. */
  public BindOptions withProbeAttempts(int attempts) {
    return new BindOptions(forced, keepOverride, unbindTimeout, attempts, nodeTimeout);
  }

  /** These options with another unbind timeout. */
  public BindOptions withUnbindTimeout(Duration timeout) {
    return new BindOptions(forced, keepOverride, timeout, probeAttempts, nodeTimeout);
  }
}
