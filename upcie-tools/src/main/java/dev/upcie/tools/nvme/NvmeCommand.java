package dev.upcie.tools.nvme;

import dev.upcie.tools.ExitCode;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** {@code upcie nvme}: talk to an NVMe controller from user space. */
@Command(
    name = "nvme",
    mixinStandardHelpOptions = true,
    description = "Talk to an NVMe controller from user space (real through VFIO, or simulated).",
    subcommands = {ShowRegsCommand.class})
public final class NvmeCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE.code();
  }
}
