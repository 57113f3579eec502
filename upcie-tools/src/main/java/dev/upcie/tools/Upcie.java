package dev.upcie.tools;

import dev.upcie.support.UpcieException;
import dev.upcie.tools.devbind.BindCommand;
import dev.upcie.tools.devbind.DevbindCommand;
import dev.upcie.tools.devbind.DoctorCommand;
import dev.upcie.tools.devbind.ListCommand;
import dev.upcie.tools.devbind.RestoreCommand;
import dev.upcie.tools.devbind.UnbindCommand;
import dev.upcie.tools.hugepages.HugepagesCommand;
import dev.upcie.tools.hugepages.MountCommand;
import dev.upcie.tools.hugepages.ReleaseCommand;
import dev.upcie.tools.hugepages.ReserveCommand;
import dev.upcie.tools.hugepages.StatusCommand;
import dev.upcie.tools.hugepages.UnmountCommand;
import dev.upcie.tools.nvme.GetFeatureCommand;
import dev.upcie.tools.nvme.IdCtrlCommand;
import dev.upcie.tools.nvme.IdNsCommand;
import dev.upcie.tools.nvme.NvmeCommand;
import dev.upcie.tools.nvme.NvmeListCommand;
import dev.upcie.tools.nvme.PerfCommand;
import dev.upcie.tools.nvme.ReadCommand;
import dev.upcie.tools.nvme.ShowRegsCommand;
import dev.upcie.tools.nvme.SmartLogCommand;
import dev.upcie.tools.nvme.WriteCommand;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/**
 * The {@code upcie} command: {@code devbind} and {@code nvme}.
 *
 * <p>Every failure the user can cause or meet prints one line, {@code upcie: <what failed, where,
 * and what to do>}, and exits with an {@link ExitCode}; stack traces are for bugs only.
 */
@Command(
    name = "upcie",
    mixinStandardHelpOptions = true,
    versionProvider = Upcie.Version.class,
    description = "User-space PCIe toolkit: inspect PCI functions, manage hugepages, talk to NVMe.",
    footer = {
      "",
      "Exit status: 0 ok, 1 failed, 2 bad usage, 3 device not found, 4 permission denied,",
      "5 partial (part of it was done), 6 refused by a safety check (nothing changed),",
      "7 the machine is not set up for it (nothing changed; see: upcie devbind doctor)."
    })
public final class Upcie implements Callable<Integer> {
  /**
   * The subcommands by name, in the order the usage lists them; a new one joins with one line here.
   * Only the one invoked is built: picocli reflects on every option of every command it is given,
   * and building them all was most of a listing's start-up.
   */
  static final SequencedMap<String, Class<?>> SUBCOMMANDS;

  /**
   * The subcommands of each group, listed here rather than in its {@code @Command}, so that of
   * these too only the one invoked is built. A new subcommand is one line here.
   */
  static final Map<String, SequencedMap<String, Class<?>>> GROUPS;

  static {
    SequencedMap<String, Class<?>> devbind = new LinkedHashMap<>();
    devbind.put("list", ListCommand.class);
    devbind.put("bind", BindCommand.class);
    devbind.put("unbind", UnbindCommand.class);
    devbind.put("restore", RestoreCommand.class);
    devbind.put("doctor", DoctorCommand.class);
    SequencedMap<String, Class<?>> hugepages = new LinkedHashMap<>();
    hugepages.put("status", StatusCommand.class);
    hugepages.put("reserve", ReserveCommand.class);
    hugepages.put("release", ReleaseCommand.class);
    hugepages.put("mount", MountCommand.class);
    hugepages.put("unmount", UnmountCommand.class);
    SequencedMap<String, Class<?>> nvme = new LinkedHashMap<>();
    nvme.put("list", NvmeListCommand.class);
    nvme.put("id-ctrl", IdCtrlCommand.class);
    nvme.put("id-ns", IdNsCommand.class);
    nvme.put("read", ReadCommand.class);
    nvme.put("write", WriteCommand.class);
    nvme.put("smart-log", SmartLogCommand.class);
    nvme.put("get-feature", GetFeatureCommand.class);
    nvme.put("perf", PerfCommand.class);
    nvme.put("show-regs", ShowRegsCommand.class);
    SequencedMap<String, Class<?>> subcommands = new LinkedHashMap<>();
    subcommands.put("devbind", DevbindCommand.class);
    subcommands.put("hugepages", HugepagesCommand.class);
    subcommands.put("nvme", NvmeCommand.class);
    SUBCOMMANDS = Collections.unmodifiableSequencedMap(subcommands);
    GROUPS =
        Map.of(
            "devbind", Collections.unmodifiableSequencedMap(devbind),
            "hugepages", Collections.unmodifiableSequencedMap(hugepages),
            "nvme", Collections.unmodifiableSequencedMap(nvme));
  }

  @Spec CommandLine.Model.CommandSpec spec;

  /** Runs the command line and exits with its status. */
  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Runs the command line with the given output streams; returns the exit status. */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new Upcie());
    // Settings below reach the subcommands added before them, so add first.
    Class<?> invoked = args.length > 0 ? SUBCOMMANDS.get(args[0]) : null;
    if (invoked != null) {
      commandLine.addSubcommand(
          args[0], withSubcommands(invoked, GROUPS.get(args[0]), args.length > 1 ? args[1] : null));
    } else {
      // Usage, --version, or a name that is not a subcommand: all of them, so the usage lists
      // them all (it does not list theirs).
      SUBCOMMANDS.forEach(commandLine::addSubcommand);
    }
    commandLine.setCaseInsensitiveEnumValuesAllowed(true);
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setExecutionExceptionHandler((failure, command, parseResult) -> {
      if (failure instanceof UpcieException || failure instanceof UncheckedIOException) {
        command.getErr().println("upcie: " + failure.getMessage());
        command.getErr().flush();
        return ExitCode.of(failure).code();
      }
      throw failure;
    });
    commandLine.setParameterExceptionHandler((failure, arguments) -> {
      CommandLine command = failure.getCommandLine();
      command
          .getErr()
          .println(
              "upcie: "
                  + failure.getMessage()
                  + " (see: "
                  + command.getCommandSpec().qualifiedName()
                  + " --help)");
      command.getErr().flush();
      return ExitCode.USAGE.code();
    });
    return commandLine.execute(args);
  }

  /**
   * {@code command}, with the one of its {@code group} subcommands named {@code next}, or all of
   * them (its usage, or a name that is not one); {@code command} alone if it has no group here.
   */
  private static Object withSubcommands(
      Class<?> command, SequencedMap<String, Class<?>> group, String next) {
    if (group == null) {
      return command;
    }
    CommandLine commandLine = new CommandLine(command);
    Class<?> invoked = next == null ? null : group.get(next);
    if (invoked != null) {
      commandLine.addSubcommand(next, invoked);
    } else {
      group.forEach(commandLine::addSubcommand);
    }
    return commandLine;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE.code();
  }

  /** The version from the jar manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Upcie.class.getPackage().getImplementationVersion();
      return new String[] {
        "upcie " + (version == null ? "(development build)" : version),
        "Java " + Runtime.version() + " (" + System.getProperty("java.home") + ")"
      };
    }
  }
}
