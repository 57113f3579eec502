package dev.upcie.tools.nvme;

import dev.upcie.tools.ExitCode;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme}: talk to an NVMe controller from user space. Its subcommands are listed in
 * {@code Upcie.GROUPS}, which builds only the one invoked.
 */
@Command(
    name = "nvme",
    mixinStandardHelpOptions = true,
    description = {
      "Talk to an NVMe controller from user space through the reference driver, as nvme-cli"
          + " does through the kernel's: real through VFIO or UIO, or simulated.",
      "A controller is given by its PCI address (bound to vfio-pci or uio_pci_generic); with"
          + " none, or with --sim, the simulated QEMU controller stands in, and stderr says so.",
      "Example: upcie nvme perf --sim --count 2000 --verify"
    })
public final class NvmeCommand implements Callable<Integer> {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE.code();
  }
}
