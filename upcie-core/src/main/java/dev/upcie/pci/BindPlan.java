package dev.upcie.pci;

import dev.upcie.sysfs.Sysfs;
import java.util.List;
import java.util.Optional;

/**
 * What {@link PciDriverBinder} will do to one function, step by step, worked out from its state
 * now: {@code --dry-run} prints it, and the binder carries out exactly these steps.
 *
 * @param before the function's binding now
 * @param target the driver it ends on, empty if it ends unbound
 * @param steps the steps, in order; empty if the function already is where it should be
 */
public record BindPlan(PciBinding before, Optional<String> target, List<BindStep> steps) {

  /** Copies the steps. */
  public BindPlan {
    steps = List.copyOf(steps);
  }

  /** True if nothing needs to change. */
  public boolean isEmpty() {
    return steps.isEmpty();
  }

  /** The steps as shell commands on {@code sysfs}, one per line, in order. */
  public List<String> commands(Sysfs sysfs) {
    return steps.stream().map(s -> s.command(sysfs)).toList();
  }
}
