package dev.upcie.procfs;

import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The parts of {@code /proc} this toolkit reads and writes, under a root directory so a copy or a
 * test tree can stand in for the kernel: {@code meminfo}, {@code mounts}, {@code self/limits} and
 * {@code sys/vm/compact_memory}.
 *
 * <pre>{@code
 * Procfs proc = Procfs.system();
 * long hugepageKb = proc.meminfo().get("Hugepagesize");   // 2048
 * }</pre>
 */
public final class Procfs {
  private final Sysfs tree;

  private Procfs(Sysfs tree) {
    this.tree = tree;
  }

  /** The machine's {@code /proc}. */
  public static Procfs system() {
    return of(Path.of("/proc"));
  }

  /** A tree laid out like {@code /proc} at {@code root}. */
  public static Procfs of(Path root) {
    // Same operations as sysfs: whole-file reads, single-write stores.
    return new Procfs(Sysfs.of(root));
  }

  /** The directory this view is rooted at. */
  public Path root() {
    return tree.root();
  }

  /**
   * {@code meminfo} as name to number, in the file's units ({@code kB} for sizes, pages for
   * counts): {@code Hugepagesize -> 2048}, {@code HugePages_Total -> 16}.
   */
  public Map<String, Long> meminfo() {
    Map<String, Long> values = new LinkedHashMap<>();
    for (String line : tree.read("meminfo").lines().toList()) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String[] words = line.substring(colon + 1).trim().split("\\s+");
      try {
        values.put(line.substring(0, colon).trim(), Long.parseLong(words[0]));
      } catch (NumberFormatException e) {
        throw new UpcieException(
            "unexpected line in " + tree.resolve("meminfo") + ": \"" + line + "\"");
      }
    }
    return values;
  }

  /** Every mount in {@code mounts}, in the kernel's order. */
  public List<MountEntry> mounts() {
    List<MountEntry> mounts = new ArrayList<>();
    for (String line : tree.read("mounts").lines().toList()) {
      String[] fields = line.trim().split("\\s+");
      if (fields.length < 4) {
        continue;
      }
      mounts.add(
          new MountEntry(
              fields[0], Path.of(unescape(fields[1])), fields[2], List.of(fields[3].split(","))));
    }
    return mounts;
  }

  /**
   * The soft limit on locked memory of the process {@code self/limits} describes, in bytes; empty
   * if unlimited.
   */
  public OptionalLong memlockLimit() {
    for (String line : tree.read("self/limits").lines().toList()) {
      if (line.startsWith("Max locked memory")) {
        String soft = line.substring("Max locked memory".length()).trim().split("\\s+")[0];
        return soft.equals("unlimited")
            ? OptionalLong.empty()
            : OptionalLong.of(Long.parseLong(soft));
      }
    }
    throw new UpcieException("no \"Max locked memory\" line in " + tree.resolve("self/limits"));
  }

  /**
   * The memory this process has locked, {@code VmLck} in {@code self/status}, in bytes: what counts
   * against the locked-memory limit, including the pages VFIO pins for DMA.
   */
  public long lockedMemory() {
    for (String line : tree.read("self/status").lines().toList()) {
      if (line.startsWith("VmLck:")) {
        String[] words = line.substring("VmLck:".length()).trim().split("\\s+");
        return Long.parseLong(words[0]) << 10;
      }
    }
    throw new UpcieException("no \"VmLck\" line in " + tree.resolve("self/status"));
  }

  /**
   * The effective capabilities of this process, {@code CapEff} in {@code self/status}, as a bit
   * set: bit 14 is {@code CAP_IPC_LOCK}, bit 21 {@code CAP_SYS_ADMIN}.
   */
  public long effectiveCapabilities() {
    for (String line : tree.read("self/status").lines().toList()) {
      if (line.startsWith("CapEff:")) {
        return Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
      }
    }
    throw new UpcieException("no \"CapEff\" line in " + tree.resolve("self/status"));
  }

  /**
   * The processes that hold any of {@code paths} open, read from every {@code <pid>/fd} link. A
   * process that ends while it is read is skipped; one whose links this user may not read is
   * counted in {@link OpenFiles#uninspected()}.
   *
   * <pre>{@code
   * OpenFiles holders = Procfs.system().openFiles(Set.of("/dev/vfio/5"));
   * holders.open().forEach(f -> System.out.println(f)); // /dev/vfio/5 is open in process 1234 (java)
   * }</pre>
   */
  public OpenFiles openFiles(Set<String> paths) {
    List<OpenFile> open = new ArrayList<>();
    int uninspected = 0;
    List<String> entries;
    try {
      entries = tree.list("");
    } catch (UpcieException e) {
      return new OpenFiles(List.of(), 0);
    }
    for (String pid : entries) {
      if (pid.isEmpty() || !Character.isDigit(pid.charAt(0))) {
        continue;
      }
      List<String> fds;
      try {
        fds = tree.list(pid + "/fd");
      } catch (UpcieException e) {
        // Gone since the listing, or another user's process.
        if (tree.exists(pid)) {
          uninspected++;
        }
        continue;
      }
      String command = null;
      for (String fd : fds) {
        String target;
        try {
          target = tree.readLink(pid + "/fd/" + fd).orElse("");
        } catch (UpcieException e) {
          continue; // closed while it was read
        }
        if (paths.contains(target)) {
          if (command == null) {
            command = command(pid);
          }
          open.add(new OpenFile(Long.parseLong(pid), command, target));
        }
      }
    }
    return new OpenFiles(open, uninspected);
  }

  private String command(String pid) {
    try {
      return tree.read(pid + "/comm").strip();
    } catch (UpcieException e) {
      return "?";
    }
  }

  /** Asks the kernel to compact memory, which helps it find free hugepages. Needs root. */
  public void compactMemory() {
    tree.write("sys/vm/compact_memory", "1");
  }

  /** True if {@code path} exists under the root. */
  public boolean exists(String path) {
    return tree.exists(path);
  }

  /** {@code mounts} escapes spaces and the like as octal ({@code \040}). */
  private static String unescape(String field) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < field.length(); i++) {
      char c = field.charAt(i);
      if (c == '\\'
          && i + 4 <= field.length()
          && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
        out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
