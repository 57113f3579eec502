package dev.upcie.tools;

import dev.upcie.host.Host;
import dev.upcie.procfs.Procfs;
import dev.upcie.sim.SimMachine;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code --sysfs-root DIR}: read another sysfs tree instead of the machine's; {@code --sysfs-root
 * FILE}: a simulated machine made from a {@code umockdev-record} recording; {@code --sysfs-root
 * sim:q35}: the simulated QEMU q35 machine. A simulated machine's writes behave as the kernel's do,
 * for one command: the simulation lives as long as the process.
 */
public final class SysfsOption {
  /** The value that selects the simulated machine. */
  public static final String SIMULATED = "sim:q35";

  @Option(
      names = "--sysfs-root",
      paramLabel = "DIR|FILE",
      description =
          "Read this sysfs tree instead of /sys: a directory (a copy), a umockdev-record"
              + " recording of /sys/bus/pci/devices/* (simulated, with the kernel's write"
              + " semantics), or "
              + SIMULATED
              + " for the simulated QEMU q35 machine.")
  String root;

  private SimMachine simulated;

  /** True if the user named a tree. */
  public boolean isSet() {
    return root != null;
  }

  /** What the user gave {@code --sysfs-root}, or null if nothing. */
  public String root() {
    return root;
  }

  /** True if a simulated machine (the q35 preset or a recording) stands in for the kernel. */
  public boolean isSimulated() {
    return SIMULATED.equals(root) || (root != null && Files.isRegularFile(Path.of(root)));
  }

  /**
   * The simulated machine, one per command, so its sysfs and procfs belong together.
   *
   * @throws UsageException if the named file is not a recording
   */
  public SimMachine simulatedMachine() {
    if (simulated == null) {
      if (SIMULATED.equals(root)) {
        simulated = SimMachine.qemuQ35();
      } else {
        Path file = Path.of(root);
        try {
          simulated = SimMachine.fromRecording(file);
        } catch (UpcieException | IllegalArgumentException e) {
          throw new UsageException(
              "--sysfs-root "
                  + root
                  + " is a file, so it must be a umockdev-record recording, and it is not: "
                  + e.getMessage());
        }
      }
    }
    return simulated;
  }

  /**
   * The machine the user named: the simulated one for {@value #SIMULATED}, a host whose sysfs is
   * the named tree (and whose {@code /proc} and {@code /dev} are this machine's) for a directory;
   * empty when the user named none.
   *
   * @throws UsageException if the named directory does not exist
   */
  public Optional<Host> host() {
    if (root == null) {
      return Optional.empty();
    }
    if (isSimulated()) {
      return Optional.of(simulatedMachine());
    }
    return Optional.of(Host.of(sysfs(), Procfs.system(), Path.of("/dev")));
  }

  /**
   * The chosen sysfs.
   *
   * @throws UsageException if the named directory does not exist
   */
  public Sysfs sysfs() {
    if (root == null) {
      return Sysfs.system();
    }
    if (isSimulated()) {
      return simulatedMachine().sysfs();
    }
    if (root.startsWith("sim:")) {
      throw new UsageException("--sysfs-root " + root + ": the simulated machine is " + SIMULATED);
    }
    Path path = Path.of(root);
    if (!Files.isDirectory(path)) {
      throw new UsageException(
          "--sysfs-root "
              + root
              + ": "
              + (Files.exists(path)
                  ? "neither a directory nor a recording"
                  : "no such directory or recording file"));
    }
    return Sysfs.of(path);
  }
}
