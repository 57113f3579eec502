package dev.upcie.tools.devbind;

import dev.upcie.host.Host;
import dev.upcie.pci.BindPreflight;
import dev.upcie.pci.FunctionNodes;
import dev.upcie.pci.PciAddress;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.UsageException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code upcie devbind bind DRIVER DEVICE...}: moves functions to a driver, safely. */
@Command(
    name = "bind",
    mixinStandardHelpOptions = true,
    description =
        "Bind functions to DRIVER (vfio-pci, uio_pci_generic, nvme, ...): safety checks, then "
            + "modprobe if needed, driver_override, unbind (with a timeout), drivers_probe (retried), "
            + "and a check of the driver link and device node. All or nothing: if one function fails, "
            + "those already moved go back. Moves are journaled; `devbind restore` undoes them.")
public final class BindCommand implements Callable<Integer> {
  @Mixin SysfsOption sysfs;

  @Mixin MoveOptions move;

  @Parameters(index = "0", paramLabel = "DRIVER", description = "The driver to bind to.")
  String driver;

  @Parameters(
      index = "1..*",
      arity = "1..*",
      paramLabel = "DEVICE",
      description =
          "An address (0000:01:00.0 or 01:00.0), a vendor:device id (every function with it), or"
              + " an NVMe name (nvme0, /dev/nvme0n1).")
  List<String> devices;

  @Option(
      names = "--whole-group",
      description =
          "Move every endpoint of each function's IOMMU group on a kernel driver too, as VFIO"
              + " needs (bridges and functions with no driver stay).")
  boolean wholeGroup;

  @Option(
      names = "--transient",
      description =
          "Clear driver_override once bound (dpdk-devbind's way). By default it stays, so a later"
              + " re-probe cannot hand the function back to a kernel driver.")
  boolean transientOverride;

  @Option(
      names = "--owner",
      paramLabel = "USER[:GROUP]",
      description = "Give the VFIO nodes (/dev/vfio/N, /dev/vfio/devices/vfioN) to this user.")
  String owner;

  @Option(
      names = "--persist",
      description =
          "Keep the binding across reboots: writes /etc/driverctl.d/pci-ADDRESS, which"
              + " driverctl's udev rule applies at boot (install driverctl for that).")
  boolean persist;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    move.requireKernel(sysfs);
    Host host = sysfs.host().orElseGet(Host::system);
    Owner to = owner == null ? null : Owner.parse(owner);
    if (persist && transientOverride) {
      throw new UsageException(
          "--persist keeps the override across reboots and --transient clears it now: choose one");
    }
    if (persist && sysfs.isSet() && !sysfs.isSimulated()) {
      throw new UsageException(
          "--persist writes this machine's /etc/driverctl.d, so it cannot go with --sysfs-root "
              + sysfs.root());
    }
    if (to != null && !host.isReal()) {
      throw new UsageException(
          "--owner changes the owner of device nodes, and the simulated machine's /dev has none");
    }
    if (to != null) {
      to.requireExists(host);
    }
    List<PciAddress> addresses = Targets.resolve(host, devices);
    if (wholeGroup) {
      Set<PciAddress> all = new LinkedHashSet<>();
      addresses.forEach(a -> all.addAll(BindPreflight.groupToMove(host.sysfs(), a)));
      addresses = List.copyOf(all);
    }
    Set<PciAddress> together = Set.copyOf(addresses);
    List<Mover.Move> moves = new ArrayList<>();
    for (PciAddress address : addresses) {
      moves.add(new Mover.Move.Bind(address, driver, together));
    }
    PrintWriter out = spec.commandLine().getOut();
    new Mover(host, move, move.bindOptions(!transientOverride)).run(moves, out);
    Persistence persistence = Persistence.of(host);
    for (PciAddress address : addresses) {
      if (persist) {
        if (move.dryRun) {
          out.println("echo " + driver + " > " + persistence.file(address));
        } else {
          persistence.persist(address, driver);
        }
      }
      if (to != null && FunctionNodes.isVfio(driver)) {
        for (String node : move.dryRun ? List.<String>of() : Owner.nodes(host, address)) {
          to.apply(host, node);
        }
      }
    }
    if (to != null && FunctionNodes.isVfio(driver)) {
      PrintWriter err = spec.commandLine().getErr();
      err.println(
          "upcie: note: "
              + to.user()
              + " must also be allowed to lock the memory its driver maps for DMA (VFIO counts"
              + " every pinned page against RLIMIT_MEMLOCK); check with `sudo -u "
              + to.user()
              + " sh -c 'ulimit -l'`, and raise it in /etc/security/limits.d/ (`"
              + to.user()
              + " - memlock unlimited`) or with LimitMEMLOCK= in its systemd unit");
      err.flush();
    }
    out.flush();
    return ExitCode.OK.code();
  }
}
