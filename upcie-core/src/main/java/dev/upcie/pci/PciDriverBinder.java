package dev.upcie.pci;

import dev.upcie.host.Host;
import dev.upcie.procfs.OpenFile;
import dev.upcie.support.EnvironmentException;
import dev.upcie.support.UpcieException;
import dev.upcie.support.WaitClock;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Moves a PCI function to another driver the way the kernel intends, and back: one documented
 * algorithm, which {@link #planBind} shows step by step before anything is written.
 *
 * <ol>
 *   <li><b>Preflight</b> ({@link BindPreflight}): refuse, naming the check, if the host uses the
 *       function (a mounted filesystem, swap, an open device node, an interface that is up) or if
 *       VFIO could not use its IOMMU group. Nothing is written before this passes.
 *   <li><b>Journal</b> the binding it has ({@link BindingJournal}), synced, before the first write.
 *   <li><b>Load the module</b> of the target driver if the kernel lacks it ({@code modprobe}).
 *   <li>Write the target to <b>{@code driver_override} first</b>, so the old driver cannot grab the
 *       function back in between (dpdk-devbind unbinds first and leaves that window).
 *   <li><b>Unbind</b> it from its driver, in a child process with a timeout: a driver can block
 *       there for as long as a process holds the device ({@code vfio-pci} does). On a timeout the
 *       error names the processes that hold its device nodes.
 *   <li>Write its address to <b>{@code drivers_probe}</b>, retried with backoff.
 *   <li><b>Verify</b> the {@code driver} link and the device node the driver makes ({@code
 *       /dev/vfio/N}, {@code /dev/uioN}, {@code /dev/nvmeN}).
 *   <li><b>Keep the override</b>, so a later re-probe cannot hand the function back to a kernel
 *       driver, or clear it ({@link BindOptions#transientOverride()}).
 * </ol>
 *
 * <p>Any failure after the first write puts the old override and driver back and says both what
 * failed and what was restored. The one exception is an unbind that is still blocked in the kernel
 * when its timeout runs out: nothing can undo that, so the error says who holds the device and what
 * the kernel will do once they let go.
 *
 * <pre>{@code
 * PciDriverBinder binder = new PciDriverBinder(Host.system());
 * PciBinding before = binder.bind(PciAddress.parse("0000:00:04.0"), "vfio-pci");
 * // ... use the device through VFIO ...
 * binder.restore(before);
 * }</pre>
 */
public final class PciDriverBinder {
  /** The node kind each driver makes, which binding to it waits for. */
  private static final Map<String, FunctionNode.Kind> NODE_OF_DRIVER =
      Map.of(
          "vfio-pci", FunctionNode.Kind.VFIO_GROUP,
          "uio_pci_generic", FunctionNode.Kind.UIO,
          "igb_uio", FunctionNode.Kind.UIO,
          "nvme", FunctionNode.Kind.NVME_CONTROLLER);

  /** The nodes a move is verified by: those a process opens to drive the function. */
  private static final Set<FunctionNode.Kind> VERIFIED_NODES =
      EnumSet.of(
          FunctionNode.Kind.NVME_CONTROLLER,
          FunctionNode.Kind.VFIO_GROUP,
          FunctionNode.Kind.VFIO_DEVICE,
          FunctionNode.Kind.UIO);

  private final Host host;
  private final Sysfs sysfs;
  private final PciBus bus;
  private final WaitClock clock;

  /** A binder acting on {@code host}: its sysfs, its modules, its processes and device nodes. */
  public PciDriverBinder(Host host) {
    this(host, host.sysfs(), WaitClock.system());
  }

  /**
   * A binder that sees only {@code sysfs}: it follows the same steps but cannot load modules, check
   * what the host uses, or verify device nodes. Prefer {@link #PciDriverBinder(Host)}.
   */
  public PciDriverBinder(Sysfs sysfs) {
    this(null, sysfs, WaitClock.system());
  }

  PciDriverBinder(Host host, Sysfs sysfs, WaitClock clock) {
    this.host = host;
    this.sysfs = sysfs;
    this.bus = new PciBus(sysfs);
    this.clock = clock;
  }

  // ---- Plans: what would be written, in order ----

  /** The steps that bind {@code address} to {@code driver}; none if it already is, as asked. */
  public BindPlan planBind(PciAddress address, String driver, BindOptions options) {
    requireDriverName(driver, address);
    PciFunction function = bus.function(address);
    PciBinding before = PciBinding.of(function);
    Optional<String> overrideAfter =
        options.keepOverride() ? Optional.of(driver) : Optional.empty();
    if (function.isBoundTo(driver) && function.driverOverride().equals(overrideAfter)) {
      return new BindPlan(before, Optional.of(driver), List.of());
    }
    String dir = PciBus.dir(address);
    List<BindStep> steps = new ArrayList<>();
    if (!function.isBoundTo(driver) && !isLoaded(driver)) {
      steps.add(new BindStep.LoadModule(driver));
    }
    steps.add(new BindStep.Write(dir + "/driver_override", driver, BindStep.Purpose.OVERRIDE));
    if (function.driver().isPresent() && !function.isBoundTo(driver)) {
      steps.add(unbindStep(address, function.driver().get()));
    }
    if (!function.isBoundTo(driver)) {
      steps.add(probeStep(address));
    }
    steps.add(new BindStep.Verify(address, driver));
    if (!options.keepOverride()) {
      steps.add(new BindStep.Write(dir + "/driver_override", "\n", BindStep.Purpose.OVERRIDE));
    }
    return new BindPlan(before, Optional.of(driver), steps);
  }

  /** The steps that unbind {@code address} from its driver; none if it has none. */
  public BindPlan planUnbind(PciAddress address) {
    PciFunction function = bus.function(address);
    PciBinding before = PciBinding.of(function);
    if (function.driver().isEmpty()) {
      return new BindPlan(before, Optional.empty(), List.of());
    }
    return new BindPlan(
        before,
        Optional.empty(),
        List.of(unbindStep(address, function.driver().get()), new BindStep.Verify(address, "")));
  }

  /** The steps that put a function back as {@code binding} describes it: override, then driver. */
  public BindPlan planRestore(PciBinding binding) {
    PciAddress address = binding.address();
    PciFunction now = bus.function(address);
    PciBinding before = PciBinding.of(now);
    if (before.equals(binding)) {
      return new BindPlan(before, binding.driver(), List.of());
    }
    List<BindStep> steps = new ArrayList<>();
    // An empty line clears driver_override; the kernel shows it as "(null)".
    steps.add(
        new BindStep.Write(
            PciBus.dir(address) + "/driver_override",
            binding.driverOverride().orElse("\n"),
            BindStep.Purpose.OVERRIDE));
    if (now.driver().isPresent() && !now.driver().equals(binding.driver())) {
      steps.add(unbindStep(address, now.driver().get()));
    }
    if (binding.driver().isPresent() && !now.driver().equals(binding.driver())) {
      String driver = binding.driver().get();
      if (!isLoaded(driver)) {
        steps.add(new BindStep.LoadModule(driver));
      }
      steps.add(
          new BindStep.Write(
              PciBus.DRIVERS + "/" + driver + "/bind", address.toString(), BindStep.Purpose.BIND));
    }
    steps.add(new BindStep.Verify(address, binding.driver().orElse("")));
    return new BindPlan(before, binding.driver(), steps);
  }

  /**
   * The steps that hand {@code address} back to whatever kernel driver claims it: clear the
   * override, unbind, and let the kernel probe. For a function with no journaled binding; none for
   * a function on a kernel driver with no override.
   */
  public BindPlan planReset(PciAddress address) {
    PciFunction now = bus.function(address);
    if (now.driverOverride().isEmpty()
        && now.driver().filter(d -> !FunctionNodes.isUserSpace(d)).isPresent()) {
      // Already on the driver the kernel chose for it.
      return new BindPlan(PciBinding.of(now), now.driver(), List.of());
    }
    List<BindStep> steps = new ArrayList<>();
    steps.add(
        new BindStep.Write(
            PciBus.dir(address) + "/driver_override", "\n", BindStep.Purpose.OVERRIDE));
    if (now.driver().isPresent()) {
      steps.add(unbindStep(address, now.driver().get()));
    }
    // What udev does when the function appears: load the module that claims its modalias, whose
    // driver then takes it (SPDK's way back to the kernel driver, with no table of our own).
    String modalias = PciBus.dir(address) + "/modalias";
    if (sysfs.exists(modalias)) {
      steps.add(new BindStep.LoadModule(sysfs.read(modalias).strip(), true));
    }
    steps.add(probeStep(address));
    steps.add(new BindStep.Verify(address, BindStep.Verify.ANY));
    return new BindPlan(PciBinding.of(now), Optional.empty(), steps);
  }

  // ---- Moves ----

  /**
   * Binds the function at {@code address} to {@code driver}, with every safety check and the
   * override kept.
   *
   * @return the binding it had before, for {@link #restore}
   * @throws BindRefusedException if a safety check refused; nothing was changed
   * @throws PciException if the function or driver is absent, or the kernel refused; the function
   *     is back on its old driver when this is thrown
   */
  public PciBinding bind(PciAddress address, String driver) {
    return bind(address, driver, BindOptions.defaults(), null);
  }

  /** {@link #bind(PciAddress, String)}, journaled in {@code journal}. */
  public PciBinding bind(PciAddress address, String driver, BindingJournal journal) {
    return bind(address, driver, BindOptions.defaults(), journal);
  }

  /**
   * Binds the function at {@code address} to {@code driver} as {@code options} say. With a {@code
   * journal}, the binding it had is written there (and synced) before the first sysfs write, and
   * forgotten again if the bind fails and is rolled back; {@link #restore(PciBinding,
   * BindingJournal)} forgets it after putting it back.
   *
   * @return the binding it had before, for {@link #restore}
   * @throws BindRefusedException if a safety check refused; nothing was changed
   * @throws EnvironmentException if the driver's module cannot be loaded; nothing was changed
   * @throws PciException if the kernel refused; the function is back where it was (or, for an
   *     unbind still blocked when the timeout ran out, the message says what the kernel will do)
   */
  public PciBinding bind(
      PciAddress address, String driver, BindOptions options, BindingJournal journal) {
    return bind(address, driver, options, journal, Set.of(address));
  }

  /**
   * {@link #bind(PciAddress, String, BindOptions, BindingJournal)} for one function of several
   * moved together: {@code moving} (the whole IOMMU group) are not counted as left behind in it.
   */
  public PciBinding bind(
      PciAddress address,
      String driver,
      BindOptions options,
      BindingJournal journal,
      Set<PciAddress> moving) {
    BindPlan plan = planBind(address, driver, options);
    if (plan.isEmpty()) {
      return plan.before();
    }
    preflight(address, Optional.of(driver), options, moving, "bind " + address + " to " + driver);
    carryOut(plan, options, journal, "binding " + address + " to " + driver);
    return plan.before();
  }

  /**
   * Unbinds {@code address} from its driver, leaving it with none (its override stays).
   *
   * @return the binding it had, for {@link #restore}
   * @throws BindRefusedException if a safety check refused; nothing was changed
   * @throws PciException if the kernel refused or the unbind is still blocked
   */
  public PciBinding unbind(PciAddress address, BindOptions options, BindingJournal journal) {
    BindPlan plan = planUnbind(address);
    if (plan.isEmpty()) {
      return plan.before();
    }
    preflight(address, Optional.empty(), options, Set.of(address), "unbind " + address);
    carryOut(plan, options, journal, "unbinding " + address);
    return plan.before();
  }

  /**
   * {@link #restore(PciBinding)}, then forgets the journal's entry of the function.
   *
   * @throws PciException as {@link #restore(PciBinding)}; the entry then stays, for a later try
   */
  public void restore(PciBinding binding, BindingJournal journal) {
    restore(binding);
    journal.forget(binding.address());
  }

  /**
   * Puts a function back as {@code binding} describes it: override, then driver. Makes no safety
   * checks: it returns a function its owner is done with.
   *
   * @throws PciException if the kernel refuses, saying what state the function is left in
   */
  public void restore(PciBinding binding) {
    BindPlan plan = planRestore(binding);
    try {
      execute(plan, BindOptions.defaults());
    } catch (UpcieException e) {
      throw new PciException(
          "could not restore "
              + binding
              + ": "
              + e.getMessage()
              + "; it is now "
              + PciBinding.of(bus.function(binding.address())),
          e);
    }
  }

  /**
   * Hands {@code address} back to the kernel driver that claims it (see {@link #planReset}),
   * checking first that no process holds its device nodes.
   *
   * @return the binding it had
   * @throws BindRefusedException if a safety check refused; nothing was changed
   */
  public PciBinding reset(PciAddress address, BindOptions options) {
    BindPlan plan = planReset(address);
    preflight(address, Optional.empty(), options, Set.of(address), "reset " + address);
    try {
      execute(plan, options);
    } catch (UpcieException e) {
      throw new PciException(
          "could not hand "
              + address
              + " back to its kernel driver: "
              + e.getMessage()
              + "; it is now "
              + PciBinding.of(bus.function(address)),
          e);
    }
    return plan.before();
  }

  // ---- The steps carried out ----

  private void preflight(
      PciAddress address,
      Optional<String> target,
      BindOptions options,
      Set<PciAddress> moving,
      String action) {
    if (host == null) {
      return;
    }
    List<BindRefusal> refusals =
        BindPreflight.check(host, address, target, moving).stream()
            .filter(r -> !options.forced().contains(r.check()))
            .toList();
    if (!refusals.isEmpty()) {
      throw new BindRefusedException(action, refusals);
    }
  }

  private void carryOut(BindPlan plan, BindOptions options, BindingJournal journal, String action) {
    PciBinding before = plan.before();
    // A module that cannot be loaded changes nothing; load it before the journal and the writes.
    for (BindStep step : plan.steps()) {
      if (step instanceof BindStep.LoadModule load && !load.optional()) {
        loadModule(load.module(), before.address());
      }
    }
    if (journal != null) {
      journal.record(before, plan.target().orElse(""));
    }
    try {
      execute(plan, options);
    } catch (StillBlocked e) {
      throw e.failure;
    } catch (UpcieException e) {
      throw rollBack(before, action, e.getMessage(), e, journal);
    }
  }

  private void execute(BindPlan plan, BindOptions options) {
    List<BindStep> steps = plan.steps();
    boolean probed = false;
    for (int i = 0; i < steps.size(); i++) {
      BindStep step = steps.get(i);
      switch (step) {
        case BindStep.LoadModule load when load.optional() -> {
          if (host != null) {
            try {
              host.loadModule(load.module());
            } catch (EnvironmentException e) {
              // No module claims it (or none can be loaded here): the probe decides.
            }
          }
        }
        case BindStep.LoadModule load -> {
          if (!isLoaded(load.module())) {
            loadModule(load.module(), plan.before().address());
          }
        }
        case BindStep.Write write when write.purpose() == BindStep.Purpose.UNBIND -> {
          List<BlockingStores.Store> stores = new ArrayList<>();
          stores.add(new BlockingStores.Store(write.path(), write.value()));
          // The probe goes with the unbind, so a blocked unbind still ends on the target driver.
          if (i + 1 < steps.size()
              && steps.get(i + 1) instanceof BindStep.Write next
              && next.purpose() == BindStep.Purpose.PROBE) {
            stores.add(new BlockingStores.Store(next.path(), next.value()));
            probed = true;
          }
          unbind(plan, stores, options);
        }
        case BindStep.Write write when write.purpose() == BindStep.Purpose.PROBE ->
            probe(plan, write, options, probed);
        case BindStep.Write write -> sysfs.write(write.path(), write.value());
        case BindStep.Verify verify -> verify(verify, options);
      }
    }
  }

  private void unbind(BindPlan plan, List<BlockingStores.Store> stores, BindOptions options) {
    PciAddress address = plan.before().address();
    // Who holds the nodes is what a timeout must report, and they go away with the unbind.
    List<FunctionNode> nodes = FunctionNodes.of(sysfs, bus.function(address));
    Optional<BlockingStores.Pending> pending =
        BlockingStores.run(sysfs, stores, options.unbindTimeout());
    if (pending.isEmpty()) {
      return;
    }
    String holders = holders(nodes);
    throw new StillBlocked(
        new PciException(
            "unbinding "
                + address
                + " from "
                + plan.before().driver().orElse("its driver")
                + " did not finish within "
                + duration(options.unbindTimeout())
                + ": "
                + holders
                + ". The kernel finishes the unbind once the device is released, and then "
                + pending.get().worker()
                + " binds it "
                + plan.target().map(t -> "to " + t).orElse("to nothing")
                + "; nothing could be rolled back. Afterwards, `upcie devbind restore "
                + address
                + "` returns it"));
  }

  private String holders(List<FunctionNode> nodes) {
    if (host == null) {
      return "its driver is waiting for its users";
    }
    Set<String> paths =
        nodes.stream()
            .filter(n -> n.kind() != FunctionNode.Kind.NETWORK_INTERFACE)
            .map(FunctionNode::name)
            .collect(Collectors.toSet());
    var open = host.procfs().openFiles(paths);
    if (open.open().isEmpty()) {
      return "no process visibly holds "
          + (paths.isEmpty() ? "a device node of it" : String.join(", ", paths))
          + (open.isComplete() ? "" : " (" + open.uninspected() + " processes could not be read)")
          + "; see dmesg";
    }
    return open.open().stream().map(OpenFile::toString).collect(Collectors.joining(", "))
        + "; its driver waits for them to close it";
  }

  private void probe(BindPlan plan, BindStep.Write write, BindOptions options, boolean probed) {
    PciAddress address = plan.before().address();
    if (plan.target().isEmpty()) {
      if (!probed) {
        sysfs.write(write.path(), write.value());
      }
      return;
    }
    String target = plan.target().get();
    long backoff = TimeUnit.MILLISECONDS.toNanos(10);
    for (int attempt = probed ? 1 : 0; attempt < options.probeAttempts(); attempt++) {
      if (bus.function(address).isBoundTo(target)) {
        return;
      }
      if (attempt > 0) {
        clock.pause(backoff);
        backoff *= 2;
      }
      sysfs.write(write.path(), write.value());
    }
  }

  private void verify(BindStep.Verify verify, BindOptions options) {
    PciFunction after = bus.function(verify.address());
    String now = after.driver().map(d -> "bound to " + d).orElse("bound to no driver");
    boolean linked =
        switch (verify.driver()) {
          case "" -> after.driver().isEmpty();
          case BindStep.Verify.ANY -> true;
          default -> after.isBoundTo(verify.driver());
        };
    if (!linked) {
      throw new PciException(
          "after "
              + (verify.driver().isEmpty() ? "the unbind" : "drivers_probe")
              + " it is "
              + now
              + (verify.driver().isEmpty() ? "" : " (the driver refused it; see dmesg)"));
    }
    if (host == null || verify.driver().isEmpty() || verify.driver().equals(BindStep.Verify.ANY)) {
      return;
    }
    long deadline = clock.nanoTime() + options.nodeTimeout().toNanos();
    List<String> missing = missingNodes(verify.address(), verify.driver());
    while (!missing.isEmpty() && clock.nanoTime() < deadline) {
      clock.pause(TimeUnit.MILLISECONDS.toNanos(10));
      missing = missingNodes(verify.address(), verify.driver());
    }
    if (!missing.isEmpty()) {
      throw new PciException(
          "it is bound to "
              + verify.driver()
              + " but "
              + String.join(" and ", missing)
              + " did not appear within "
              + options.nodeTimeout().toMillis()
              + " ms (is devtmpfs mounted on "
              + host.dev()
              + "? see dmesg)");
    }
  }

  /** The device nodes {@code driver} should have made for the function and that are not there. */
  private List<String> missingNodes(PciAddress address, String driver) {
    List<FunctionNode> nodes = FunctionNodes.of(sysfs, bus.function(address));
    List<String> missing = new ArrayList<>();
    FunctionNode.Kind expected = NODE_OF_DRIVER.get(driver);
    if (expected != null && nodes.stream().noneMatch(n -> n.kind() == expected)) {
      missing.add(
          "its "
              + expected.name().toLowerCase(Locale.ROOT).replace('_', ' ')
              + " node (not yet in sysfs)");
    }
    for (FunctionNode node : nodes) {
      if (VERIFIED_NODES.contains(node.kind()) && !Files.exists(devPath(node.name()))) {
        missing.add(node.name());
      }
    }
    return missing;
  }

  private Path devPath(String node) {
    return host.dev().resolve(node.substring("/dev/".length()));
  }

  private boolean isLoaded(String driver) {
    return sysfs.exists(PciBus.DRIVERS + "/" + driver);
  }

  private void loadModule(String driver, PciAddress address) {
    if (host == null) {
      throw new EnvironmentException(
          "cannot bind "
              + address
              + " to "
              + driver
              + ": the driver is not loaded (no "
              + sysfs.resolve(PciBus.DRIVERS + "/" + driver)
              + "); load it with `modprobe "
              + driver
              + "`");
    }
    host.loadModule(driver);
    if (!isLoaded(driver)) {
      throw new EnvironmentException(
          "`modprobe "
              + driver
              + "` succeeded but the kernel has no PCI driver "
              + driver
              + " (no "
              + sysfs.resolve(PciBus.DRIVERS + "/" + driver)
              + "); is that the driver's name? `ls "
              + sysfs.resolve(PciBus.DRIVERS)
              + "` lists the loaded ones");
    }
  }

  private static void requireDriverName(String driver, PciAddress address) {
    if (driver.isBlank() || !driver.matches("[A-Za-z0-9_.-]+")) {
      throw new PciException(
          "invalid driver name \""
              + driver
              + "\" for "
              + address
              + ": expected a name such as"
              + " vfio-pci, uio_pci_generic or nvme");
    }
  }

  private static BindStep unbindStep(PciAddress address, String driver) {
    return new BindStep.Write(
        PciBus.DRIVERS + "/" + driver + "/unbind", address.toString(), BindStep.Purpose.UNBIND);
  }

  private static BindStep probeStep(PciAddress address) {
    return new BindStep.Write("bus/pci/drivers_probe", address.toString(), BindStep.Purpose.PROBE);
  }

  private PciException rollBack(
      PciBinding before,
      String action,
      String reason,
      UpcieException cause,
      BindingJournal journal) {
    String outcome;
    try {
      restore(before);
      if (journal != null) {
        journal.forget(before.address());
      }
      outcome = "restored " + before;
    } catch (UpcieException e) {
      outcome = "and restoring failed too: " + e.getMessage();
    }
    String message = action + " failed: " + reason + "; " + outcome;
    return new PciException(message, cause);
  }

  private static String duration(Duration d) {
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
  }

  /** An unbind still blocked in the kernel: not rolled back, since nothing can undo it. */
  private static final class StillBlocked extends UpcieException {
    private static final long serialVersionUID = 1L;
    private final transient PciException failure;

    StillBlocked(PciException failure) {
      super(failure.getMessage());
      this.failure = failure;
    }
  }
}
