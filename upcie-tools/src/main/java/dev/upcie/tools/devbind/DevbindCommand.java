package dev.upcie.tools.devbind;

import dev.upcie.tools.ExitCode;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code upcie devbind}: PCI functions and their drivers. */
@Command(
    name = "devbind",
    mixinStandardHelpOptions = true,
    description = "Inspect PCI functions, move them between drivers safely, check the machine.")
public final class DevbindCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE.code();
  }
}
