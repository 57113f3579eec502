package dev.upcie.it.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The modules of an installed kernel and their dependencies, read from {@code modules.dep}, so the
 * initramfs can {@code insmod} them in an order where every dependency comes first.
 */
final class KernelModules {
  private final Path directory;
  private final Map<String, String> pathByName = new HashMap<>();
  private final Map<String, List<String>> dependencies = new HashMap<>();

  private KernelModules(Path directory) {
    this.directory = directory;
  }

  /** Reads {@code <directory>/modules.dep}, such as {@code /lib/modules/6.1.0-56-amd64}. */
  static KernelModules read(Path directory) throws IOException {
    KernelModules modules = new KernelModules(directory);
    for (String line : Files.readAllLines(directory.resolve("modules.dep"))) {
      int colon = line.indexOf(':');
      if (colon < 0) {
        continue;
      }
      String path = line.substring(0, colon);
      String name = name(path);
      modules.pathByName.put(name, path);
      List<String> deps = new ArrayList<>();
      for (String dep : line.substring(colon + 1).trim().split("\\s+")) {
        if (!dep.isEmpty()) {
          deps.add(name(dep));
        }
      }
      modules.dependencies.put(name, deps);
    }
    return modules;
  }

  /**
   * The modules to load for {@code wanted}, dependencies first, as paths relative to the module
   * directory. Modules built into the kernel are not in {@code modules.dep} and are skipped.
   */
  List<String> loadOrder(List<String> wanted) {
    Set<String> order = new LinkedHashSet<>();
    for (String module : wanted) {
      visit(module.replace('-', '_'), order, new LinkedHashSet<>());
    }
    return order.stream().map(pathByName::get).toList();
  }

  /** The absolute path of a module given relative to the module directory. */
  Path resolve(String relative) {
    return directory.resolve(relative);
  }

  private void visit(String module, Set<String> order, Set<String> visiting) {
    if (order.contains(module) || !pathByName.containsKey(module)) {
      return;
    }
    if (!visiting.add(module)) {
      throw new IllegalStateException("dependency cycle through " + module);
    }
    for (String dep : dependencies.get(module)) {
      visit(dep, order, visiting);
    }
    order.add(module);
  }

  private static String name(String path) {
    String file = path.substring(path.lastIndexOf('/') + 1);
    return file.substring(0, file.indexOf(".ko")).replace('-', '_');
  }
}
