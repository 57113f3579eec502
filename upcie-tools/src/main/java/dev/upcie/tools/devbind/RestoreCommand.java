package dev.upcie.tools.devbind;

import dev.upcie.host.Host;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.PciAddress;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.UsageException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code upcie devbind restore [DEVICE...|--all]}: returns functions to their kernel drivers. */
@Command(
    name = "restore",
    mixinStandardHelpOptions = true,
    description =
        "Return functions to the binding journaled before uPCIe first moved them; a function with "
            + "no journal entry goes back to the kernel driver that claims it (override cleared, then "
            + "drivers_probe). Also forgets a binding persisted with bind --persist.")
public final class RestoreCommand implements Callable<Integer> {
  @Mixin SysfsOption sysfs;

  @Mixin MoveOptions move;

  @Option(
      names = "--all",
      description =
          "Every journaled function, except those a running process (a test) moved and will put"
              + " back itself.")
  boolean all;

  @Parameters(
      arity = "0..*",
      paramLabel = "DEVICE",
      description = "An address, a vendor:device id, or an NVMe name.")
  List<String> devices = List.of();

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    if (all == !devices.isEmpty()) {
      throw new UsageException("name the functions to restore, or give --all (not both)");
    }
    move.requireKernel(sysfs);
    Host host = sysfs.host().orElseGet(Host::system);
    BindingJournal journal = BindingJournal.of(host);
    PrintWriter err = spec.commandLine().getErr();
    List<PciAddress> addresses = new ArrayList<>();
    if (all) {
      for (BindingJournal.Entry entry : journal.entries()) {
        if (entry.kept() || entry.orphaned()) {
          addresses.add(entry.original().address());
        } else {
          err.println(
              "upcie: left alone: " + entry + " (that process is running and puts it back itself)");
        }
      }
    } else {
      addresses.addAll(Targets.resolve(host, devices));
    }
    List<Mover.Move> moves =
        addresses.stream()
            .<Mover.Move>map(a ->
                new Mover.Move.Restore(a, journal.entry(a).map(BindingJournal.Entry::original)))
            .toList();
    PrintWriter out = spec.commandLine().getOut();
    if (!moves.isEmpty()) {
      new Mover(host, move, move.bindOptions(true)).run(moves, out);
    }
    Persistence persistence = Persistence.of(host);
    for (PciAddress address : addresses) {
      if (move.dryRun) {
        if (Files.exists(persistence.file(address))) {
          out.println("rm " + persistence.file(address));
        }
      } else if (persistence.forget(address)) {
        out.println(address + ": forgot its persisted binding " + persistence.file(address));
      }
    }
    out.flush();
    err.flush();
    return ExitCode.OK.code();
  }
}
