package dev.upcie.tools.devbind;

import dev.upcie.host.Host;
import dev.upcie.pci.PciAddress;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.SysfsOption;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code upcie devbind unbind DEVICE...}: leaves functions with no driver. */
@Command(
    name = "unbind",
    mixinStandardHelpOptions = true,
    description =
        "Unbind functions from their drivers, leaving them with none, after the same safety "
            + "checks as bind. Journaled: `devbind restore` binds them back.")
public final class UnbindCommand implements Callable<Integer> {
  @Mixin SysfsOption sysfs;

  @Mixin MoveOptions move;

  @Parameters(
      arity = "1..*",
      paramLabel = "DEVICE",
      description = "An address, a vendor:device id, or an NVMe name.")
  List<String> devices;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    move.requireKernel(sysfs);
    Host host = sysfs.host().orElseGet(Host::system);
    List<PciAddress> addresses = Targets.resolve(host, devices);
    List<Mover.Move> moves = addresses.stream().<Mover.Move>map(Mover.Move.Unbind::new).toList();
    new Mover(host, move, move.bindOptions(true)).run(moves, spec.commandLine().getOut());
    return ExitCode.OK.code();
  }
}
