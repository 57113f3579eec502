package dev.upcie.doctor;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Whether the running kernel has a module: loaded, built in, loadable from {@code
 * /lib/modules/RELEASE}, or none of these; read from {@code /sys/module}, {@code
 * /sys/bus/pci/drivers}, {@code modules.builtin} and {@code modules.dep}.
 */
final class KernelModules {
  private final Trees trees;
  private Optional<String> release;
  private Set<String> builtin;
  private Set<String> loadable;
  private Path dep;

  KernelModules(Trees trees) {
    this.trees = trees;
  }

  /** What a module's presence comes to. */
  enum Kind {
    LOADED,
    BUILT_IN,
    LOADABLE,
    /** Not built for this kernel at all. */
    ABSENT,
    /** This kernel's module index is not here (a container, or a kernel without its package). */
    UNKNOWN
  }

  /**
   * One module's state.
   *
   * @param name the module's name, with underscores
   * @param kind how it is there
   * @param evidence where that was seen, for the finding's sentence
   */
  record State(String name, Kind kind, String evidence) {
    /** Loaded or built in: its driver can bind now. */
    boolean present() {
      return kind == Kind.LOADED || kind == Kind.BUILT_IN;
    }

    /** Present, or one modprobe away. */
    boolean available() {
      return present() || kind == Kind.LOADABLE;
    }

    /** Available, or perhaps available: the index that would tell is missing. */
    boolean possible() {
      return available() || kind == Kind.UNKNOWN;
    }

    String describe() {
      return name
          + switch (kind) {
            case LOADED -> " is loaded (" + evidence + ")";
            case BUILT_IN -> " is built in (" + evidence + ")";
            case LOADABLE -> " is not loaded but can be (" + evidence + ")";
            case ABSENT -> " is not built for this kernel (" + evidence + ")";
            case UNKNOWN -> " is not loaded, and whether it could be is unknown (" + evidence + ")";
          };
    }
  }

  /**
   * The state of {@code module} (underscores, as {@code /sys/module} spells it), whose PCI driver,
   * if it has one, is {@code driver} (as {@code /sys/bus/pci/drivers} spells it).
   */
  State state(String module, Optional<String> driver) {
    String sysModule = "module/" + module;
    if (trees.sysExists(sysModule)) {
      // A loadable module has initstate; a built-in one with parameters appears without it.
      return trees.sysExists(sysModule + "/initstate")
          ? new State(module, Kind.LOADED, trees.sysPath(sysModule).toString())
          : new State(module, Kind.BUILT_IN, trees.sysPath(sysModule) + " has no initstate");
    }
    if (driver.isPresent() && trees.sysExists("bus/pci/drivers/" + driver.get())) {
      return new State(
          module, Kind.LOADED, trees.sysPath("bus/pci/drivers/" + driver.get()).toString());
    }
    Optional<String> release = release();
    if (release.isEmpty()) {
      return new State(
          module, Kind.UNKNOWN, "no " + trees.procPath("sys/kernel/osrelease") + " to name it");
    }
    load(release.get());
    if (builtin.contains(module)) {
      return new State(module, Kind.BUILT_IN, trees.modules(release.get()) + "/modules.builtin");
    }
    if (loadable == null) {
      return new State(
          module,
          Kind.UNKNOWN,
          "no "
              + dep
              + ": the modules of kernel "
              + release.get()
              + " are not installed on this file system");
    }
    if (loadable.contains(module)) {
      return new State(module, Kind.LOADABLE, dep.toString());
    }
    return new State(module, Kind.ABSENT, "neither in modules.builtin nor in " + dep);
  }

  /**
   * Why no module can be loaded now, if that is so: {@code /proc/sys/kernel/modules_disabled} is 1
   * until the next boot.
   */
  Optional<String> loadingDisabled() {
    return trees
        .proc("sys/kernel/modules_disabled")
        .filter(v -> v.strip().equals("1"))
        .map(v ->
            "module loading is switched off until the next boot ("
                + trees.procPath("sys/kernel/modules_disabled")
                + " is 1)");
  }

  /** The running kernel's release, {@code uname -r}. */
  Optional<String> release() {
    if (release == null) {
      release = trees.proc("sys/kernel/osrelease").map(String::strip);
    }
    return release;
  }

  private void load(String release) {
    if (builtin != null) {
      return;
    }
    Path directory = trees.modules(release);
    dep = directory.resolve("modules.dep");
    builtin = names(trees.lines(directory.resolve("modules.builtin")).orElse(List.of()));
    loadable = trees.lines(dep).map(KernelModules::names).orElse(null);
  }

  /**
   * The module names of index lines such as {@code kernel/drivers/vfio/pci/vfio-pci.ko.xz: deps}:
   * the file name up to {@code .ko}, with dashes as underscores (modprobe treats them alike).
   */
  private static Set<String> names(List<String> lines) {
    Set<String> names = new HashSet<>();
    for (String line : lines) {
      int colon = line.indexOf(':');
      String path = (colon < 0 ? line : line.substring(0, colon)).strip();
      String file = path.substring(path.lastIndexOf('/') + 1);
      int ko = file.indexOf(".ko");
      if (ko > 0) {
        names.add(file.substring(0, ko).replace('-', '_'));
      }
    }
    return names;
  }
}
