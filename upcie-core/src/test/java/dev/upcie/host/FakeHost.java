package dev.upcie.host;

import dev.upcie.procfs.Procfs;
import dev.upcie.sys.SystemCalls;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsTreeFixture;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A machine made of files in a test's directory, with {@link ScriptedKernel scripted} system calls:
 * a sysfs tree, a procfs with {@code meminfo}, {@code self/limits} and {@code self/status}, and a
 * {@code /dev} whose device nodes are ordinary files the script answers for.
 */
public final class FakeHost implements Host, SystemCalls.Source {
  private final SysfsTreeFixture sys;
  private final Path proc;
  private final Path dev;
  private final ScriptedKernel kernel = new ScriptedKernel();
  private long memlockLimit = 64 << 10;
  private long locked;
  private long capabilities = 0x1ff_ffff_ffffL;

  /**
   * An empty machine in {@code dir}: no PCI functions, 64 KiB of locked memory allowed, and a
   * process with every capability (as root has).
   */
  public FakeHost(Path dir) {
    this.sys = new SysfsTreeFixture(mkdirs(dir.resolve("sys")));
    this.proc = mkdirs(dir.resolve("proc"));
    this.dev = mkdirs(dir.resolve("dev"));
    mkdirs(proc.resolve("self"));
    write(proc.resolve("meminfo"), "MemTotal:       2048000 kB\nHugepagesize:       2048 kB\n");
    write(proc.resolve("mounts"), "");
    status();
  }

  /** The sysfs tree, to add functions to. */
  public SysfsTreeFixture tree() {
    return sys;
  }

  /** The script the backends' system calls follow. */
  public ScriptedKernel kernel() {
    return kernel;
  }

  /** Creates the device node {@code name} under {@link #dev()}, as an empty file. */
  public FakeHost node(String name) {
    Path node = dev.resolve(name);
    mkdirs(node.getParent());
    write(node, "");
    return this;
  }

  /** The locked-memory limit and what is locked already, in bytes. */
  public FakeHost memlock(long limit, long locked) {
    this.memlockLimit = limit;
    this.locked = locked;
    return status();
  }

  /** The process's effective capabilities ({@code CapEff}): 0 for an ordinary user. */
  public FakeHost capabilities(long effective) {
    this.capabilities = effective;
    return status();
  }

  private FakeHost status() {
    write(
        proc.resolve("self/limits"),
        String.format(
            "Max locked memory         %d              %d              bytes%n",
            memlockLimit, memlockLimit));
    write(
        proc.resolve("self/status"),
        String.format("VmLck:\t%d kB%nCapEff:\t%016x%n", locked >> 10, capabilities));
    return this;
  }

  @Override
  public Sysfs sysfs() {
    return Sysfs.of(sys.root());
  }

  @Override
  public Procfs procfs() {
    return Procfs.of(proc);
  }

  @Override
  public Path dev() {
    return dev;
  }

  @Override
  public SystemCalls systemCalls() {
    return kernel;
  }

  @Override
  public String toString() {
    return "the fake machine in " + sys.root().getParent();
  }

  private static Path mkdirs(Path dir) {
    try {
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void write(Path file, String content) {
    try {
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
