package dev.upcie.tools;

import java.io.PrintWriter;
import java.io.Writer;
import java.util.List;

/**
 * The training run of the AOT cache that {@code ./upcie} starts the JVM with ({@code
 * target/upcie.aot}, made at package time with {@code -XX:AOTCacheOutput}): the commands whose
 * start-up matters, in one JVM, so the cache holds the classes they load, already linked, and the
 * profiles of the methods they run. They only read this machine's sysfs and procfs.
 *
 * <p>Not the simulated machine: its file system (jimfs, Guava) would add a third to the cache, and
 * the JVM maps and loads all of a cache at every start, so each listing would pay for it (about 50
 * ms a listing on a busy 2-CPU machine). Its commands run without those classes cached, which costs
 * them about as much, and they are not the ones that must start fast.
 */
public final class AotTraining {
  /** Each command, as its arguments. */
  static final List<List<String>> COMMANDS =
      List.of(
          List.of("--help"),
          List.of("--version"),
          List.of("devbind", "list"),
          List.of("devbind", "list", "--json"),
          List.of("devbind", "list", "--help"),
          List.of("hugepages", "status"),
          List.of("hugepages", "status", "--json"));

  private AotTraining() {}

  /** Runs every command, output discarded; a command that fails does not stop the others. */
  public static void main(String[] args) {
    PrintWriter discard = new PrintWriter(Writer.nullWriter());
    for (List<String> command : COMMANDS) {
      try {
        Upcie.run(command.toArray(String[]::new), discard, discard);
      } catch (RuntimeException e) {
        // A machine without PCI in sysfs, say: the cache just learns less from this command.
        System.err.println("AotTraining: " + String.join(" ", command) + ": " + e);
      }
    }
  }
}
