package dev.upcie.tools.devbind;

import dev.upcie.host.Host;
import dev.upcie.pci.BindCheck;
import dev.upcie.pci.BindOptions;
import dev.upcie.pci.BindPlan;
import dev.upcie.pci.BindPreflight;
import dev.upcie.pci.BindRefusal;
import dev.upcie.pci.BindRefusedException;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciException;
import dev.upcie.support.UpcieException;
import dev.upcie.tools.output.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Carries out a command's moves all or nothing: every function's safety checks first (nothing is
 * written if one refuses), then each move, journaled and kept for {@code devbind restore}; if one
 * fails, those already made are put back.
 */
final class Mover {
  /** The JSON schema name and version of the moving commands' {@code --json}. */
  static final String SCHEMA = "upcie.devbind.move/1";

  private final Host host;
  private final PciDriverBinder binder;
  private final BindingJournal journal;
  private final BindOptions options;
  private final MoveOptions flags;

  Mover(Host host, MoveOptions flags, BindOptions options) {
    this.host = host;
    this.binder = new PciDriverBinder(host);
    this.journal = BindingJournal.of(host);
    this.options = options;
    this.flags = flags;
  }

  /** One function's move. */
  sealed interface Move {
    PciAddress address();

    /** To {@code driver}; {@code group} are the functions moved together with it. */
    record Bind(PciAddress address, String driver, Set<PciAddress> group) implements Move {}

    /** Off its driver. */
    record Unbind(PciAddress address) implements Move {}

    /** Back to the journaled binding, or (with none journaled) to the kernel's choice. */
    record Restore(PciAddress address, Optional<PciBinding> original) implements Move {}
  }

  /** What a move did, for the output. */
  record Outcome(PciAddress address, PciBinding before, PciBinding after, List<String> steps) {}

  /** The plan of {@code move} on the host as it is now. */
  BindPlan plan(Move move) {
    return switch (move) {
      case Move.Bind b -> binder.planBind(b.address(), b.driver(), options);
      case Move.Unbind u -> binder.planUnbind(u.address());
      case Move.Restore r ->
          r.original().map(binder::planRestore).orElseGet(() -> binder.planReset(r.address()));
    };
  }

  /**
   * Checks every move, then makes them (or, with {@code --dry-run}, prints them), and prints the
   * outcome.
   *
   * @throws BindRefusedException if a check refused; nothing was changed
   */
  void run(List<Move> moves, PrintWriter out) {
    List<BindPlan> plans = moves.stream().map(this::plan).toList();
    List<BindRefusal> refusals = new ArrayList<>();
    for (int i = 0; i < moves.size(); i++) {
      if (!plans.get(i).isEmpty()) {
        refusals.addAll(check(moves.get(i)));
      }
    }
    if (flags.dryRun) {
      printPlans(moves, plans, refusals, out);
      if (!refusals.isEmpty()) {
        throw new BindRefusedException(action(moves), refusals);
      }
      return;
    }
    if (!refusals.isEmpty()) {
      throw new BindRefusedException(action(moves), refusals);
    }
    List<Outcome> outcomes = new ArrayList<>();
    for (int i = 0; i < moves.size(); i++) {
      Move move = moves.get(i);
      BindPlan plan = plans.get(i);
      try {
        if (!plan.isEmpty()) {
          make(move);
        }
      } catch (UpcieException e) {
        throw putBack(outcomes, move, e);
      }
      PciBinding after = PciBinding.of(new PciBus(host.sysfs()).function(move.address()));
      outcomes.add(new Outcome(move.address(), plan.before(), after, plan.commands(host.sysfs())));
    }
    print(outcomes, out);
  }

  private List<BindRefusal> check(Move move) {
    List<BindRefusal> found =
        switch (move) {
          case Move.Bind b ->
              BindPreflight.check(host, b.address(), Optional.of(b.driver()), b.group());
          case Move.Unbind u ->
              BindPreflight.check(host, u.address(), Optional.empty(), Set.of(u.address()));
          // Returning a function to its kernel driver can only hang on a process holding it.
          case Move.Restore r ->
              BindPreflight.check(host, r.address(), Optional.empty(), Set.of(r.address())).stream()
                  .filter(f -> f.check() == BindCheck.OPEN)
                  .toList();
        };
    return found.stream().filter(r -> !options.forced().contains(r.check())).toList();
  }

  // The binder checks again right before its first write: the all-or-nothing pass above ran
  // before any move, and a process may have opened a node since.
  private void make(Move move) {
    switch (move) {
      case Move.Bind b -> {
        binder.bind(b.address(), b.driver(), options, journal, b.group());
        journal.keep(b.address());
      }
      case Move.Unbind u -> {
        binder.unbind(u.address(), options, journal);
        journal.keep(u.address());
      }
      case Move.Restore r -> {
        if (r.original().isPresent()) {
          binder.restore(r.original().get(), journal);
        } else {
          binder.reset(r.address(), options);
        }
      }
    }
  }

  /** Puts back the moves made before {@code failed}, newest first, and says so. */
  private UpcieException putBack(List<Outcome> made, Move failed, UpcieException failure) {
    List<String> notes = new ArrayList<>();
    for (Outcome outcome : made.reversed()) {
      if (outcome.before().equals(outcome.after())) {
        continue;
      }
      try {
        binder.restore(outcome.before());
        journal.forget(outcome.address());
        notes.add("put " + outcome.before() + " back");
      } catch (UpcieException e) {
        notes.add("could not put " + outcome.before() + " back: " + e.getMessage());
      }
    }
    if (notes.isEmpty()) {
      return failure; // its own kind decides the exit status: refused, environment, failed
    }
    return new PciException(
        failed.address() + ": " + failure.getMessage() + "; " + String.join("; ", notes), failure);
  }

  private static String action(List<Move> moves) {
    return switch (moves.getFirst()) {
      case Move.Bind b -> "bind " + addresses(moves) + " to " + b.driver();
      case Move.Unbind u -> "unbind " + addresses(moves);
      case Move.Restore r -> "restore " + addresses(moves);
    };
  }

  private static String addresses(List<Move> moves) {
    return String.join(", ", moves.stream().map(m -> m.address().toString()).toList());
  }

  private void printPlans(
      List<Move> moves, List<BindPlan> plans, List<BindRefusal> refusals, PrintWriter out) {
    if (flags.json) {
      List<Object> items = new ArrayList<>();
      for (int i = 0; i < moves.size(); i++) {
        BindPlan plan = plans.get(i);
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("address", moves.get(i).address().toString());
        item.put("before", binding(plan.before()));
        item.put("steps", plan.commands(host.sysfs()));
        items.add(item);
      }
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("schema", SCHEMA);
      root.put("dry_run", true);
      root.put("moves", items);
      root.put(
          "refusals",
          refusals.stream()
              .map(r -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("address", r.function().toString());
                m.put("check", r.check().forceName());
                m.put("reason", r.reason());
                m.put("fix", r.fix());
                return (Object) m;
              })
              .toList());
      out.print(Json.write(root));
    } else {
      for (int i = 0; i < moves.size(); i++) {
        BindPlan plan = plans.get(i);
        out.println(
            "# "
                + moves.get(i).address()
                + ": "
                + describe(plan.before())
                + (plan.isEmpty() ? ", nothing to do" : ""));
        plan.commands(host.sysfs()).forEach(out::println);
      }
      for (BindRefusal refusal : refusals) {
        out.println("# refused: " + refusal);
      }
    }
    out.flush();
  }

  private void print(List<Outcome> outcomes, PrintWriter out) {
    if (flags.json) {
      List<Object> items = new ArrayList<>();
      for (Outcome o : outcomes) {
        Map<String, Object> item = new LinkedHashMap<>();
        item.put("address", o.address().toString());
        item.put("before", binding(o.before()));
        item.put("after", binding(o.after()));
        item.put("changed", !o.before().equals(o.after()));
        item.put("steps", o.steps());
        items.add(item);
      }
      Map<String, Object> root = new LinkedHashMap<>();
      root.put("schema", SCHEMA);
      root.put("dry_run", false);
      root.put("moves", items);
      root.put("refusals", List.of());
      out.print(Json.write(root));
    } else {
      for (Outcome o : outcomes) {
        out.println(
            o.address()
                + ": "
                + (o.before().equals(o.after())
                    ? "unchanged, " + describe(o.after())
                    : describe(o.before()) + " -> " + describe(o.after())));
      }
    }
    out.flush();
  }

  private static Map<String, Object> binding(PciBinding binding) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("driver", binding.driver().orElse(null));
    m.put("driver_override", binding.driverOverride().orElse(null));
    return m;
  }

  /** {@code nvme}, {@code vfio-pci (override vfio-pci)}, {@code no driver}. */
  static String describe(PciBinding binding) {
    return binding.driver().orElse("no driver")
        + binding.driverOverride().map(o -> " (override " + o + ")").orElse("");
  }
}
