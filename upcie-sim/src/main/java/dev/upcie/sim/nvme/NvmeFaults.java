package dev.upcie.sim.nvme;

import dev.upcie.nvme.NvmeStatus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Faults to inject into a simulated NVMe controller, to test how a driver copes with what real
 * drives do now and then: a command that fails, a completion that comes late or never, a controller
 * that never becomes ready or goes fatal, a namespace that disappears.
 *
 * <pre>{@code
 * NvmeFaults faults = model.faults();
 * faults.failNext(CommandMatch.io(NvmeOpcodes.IO_READ), NvmeStatus.UNRECOVERED_READ_ERROR);
 * faults.delayNextCompletion(CommandMatch.admin(NvmeOpcodes.ADMIN_IDENTIFY), Duration.ofSeconds(2));
 * faults.holdReady();      // CC.EN = 1 now leaves CSTS.RDY at 0 until releaseReady()
 * faults.removeNamespace(2);
 * }</pre>
 *
 * <p>Each {@code ...Next} fault applies once, to the first command that matches, in the order the
 * faults were added. Thread-safe: the controller's lock guards them.
 */
public final class NvmeFaults {
  private final Controller controller;
  private final NvmeModel model;
  private final List<Rule> rules = new ArrayList<>();
  // Read without the lock on every command, so a controller without faults pays nothing more.
  private volatile boolean armed;

  NvmeFaults(Controller controller, NvmeModel model) {
    this.controller = controller;
    this.model = model;
  }

  /**
   * The next command matching {@code match} completes with {@code status} (type and code, and
   * {@link NvmeStatus#DNR} if wanted) without being executed.
   */
  public void failNext(CommandMatch match, int status) {
    if (status <= 0 || status > 0x7fff) {
      throw new IllegalArgumentException(
          "status 0x" + Integer.toHexString(status) + ": a failure is 0x0001 to 0x7fff");
    }
    add(new Rule(Objects.requireNonNull(match, "match"), Action.FAIL, status, Duration.ZERO));
  }

  /**
   * The next command matching {@code match} is executed, and its completion posted {@code delay}
   * later.
   */
  public void delayNextCompletion(CommandMatch match, Duration delay) {
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative");
    }
    add(new Rule(Objects.requireNonNull(match, "match"), Action.DELAY, 0, delay));
  }

  /**
   * The next command matching {@code match} is executed but never completed: the driver's timeout
   * is what is tested. Its submission queue entry stays in use until the controller is reset.
   */
  public void dropNextCompletion(CommandMatch match) {
    add(new Rule(Objects.requireNonNull(match, "match"), Action.DROP, 0, Duration.ZERO));
  }

  /** CSTS.RDY does not rise, at the next enables, until {@link #releaseReady()}. */
  public void holdReady() {
    model.holdReady(true);
  }

  /** Lets CSTS.RDY rise: at once if the controller is enabled and started. */
  public void releaseReady() {
    model.holdReady(false);
  }

  /** The controller fails now: CSTS.CFS is set, and it stays set until the controller is reset. */
  public void raiseFatal() {
    model.raiseFatal();
  }

  /**
   * Takes namespace {@code nsid} away, as a hot-removed drive: it leaves the active namespace list,
   * commands for it fail as for an inactive namespace (Invalid Field, DNR), the Changed Namespace
   * List log names it, and a namespace attribute notice completes an outstanding Asynchronous Event
   * Request.
   *
   * @throws IllegalArgumentException if there is no such namespace
   */
  public void removeNamespace(int nsid) {
    synchronized (controller) {
      if (!controller.removeNamespace(nsid)) {
        StringBuilder present = new StringBuilder();
        for (Namespace ns : controller.namespaces) {
          if (ns != null) {
            present.append(present.isEmpty() ? "" : ", ").append(ns.nsid);
          }
        }
        throw new IllegalArgumentException(
            "the controller has no namespace "
                + nsid
                + " to remove (it has "
                + (present.isEmpty() ? "none" : present)
                + ")");
      }
    }
  }

  /** Forgets the command faults not yet applied. */
  public void clear() {
    synchronized (controller) {
      rules.clear();
      armed = false;
    }
  }

  private void add(Rule rule) {
    synchronized (controller) {
      rules.add(rule);
      armed = true;
    }
  }

  /** The fault for this command, removed as it applies; null if none (the usual case). */
  Rule take(int sq, int opcode, int nsid) {
    if (!armed) {
      return null;
    }
    for (int i = 0; i < rules.size(); i++) {
      Rule rule = rules.get(i);
      if (rule.match.matches(sq, opcode, nsid)) {
        rules.remove(i);
        armed = !rules.isEmpty();
        return rule;
      }
    }
    return null;
  }

  enum Action {
    FAIL,
    DELAY,
    DROP
  }

  record Rule(CommandMatch match, Action action, int status, Duration delay) {}
}
