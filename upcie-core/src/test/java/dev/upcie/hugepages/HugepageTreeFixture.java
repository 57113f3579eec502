package dev.upcie.hugepages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes sysfs and procfs trees with hugepage pools, as a kernel would show them. */
final class HugepageTreeFixture {
  final Path sys;
  final Path proc;

  HugepageTreeFixture(Path root) {
    this.sys = root.resolve("sys");
    this.proc = root.resolve("proc");
    write(proc.resolve("meminfo"), "MemTotal:       24000000 kB\nHugepagesize:       2048 kB\n");
    write(proc.resolve("mounts"), "proc /proc proc rw 0 0\n");
    write(
        proc.resolve("self/limits"),
        "Max locked memory         8388608              8388608              bytes\n");
  }

  HugepageTreeFixture pool(String sizeKb, long total, long free, long reserved, long surplus) {
    Path dir = sys.resolve("kernel/mm/hugepages/hugepages-" + sizeKb + "kB");
    write(dir.resolve("nr_hugepages"), total + "\n");
    write(dir.resolve("free_hugepages"), free + "\n");
    write(dir.resolve("resv_hugepages"), reserved + "\n");
    write(dir.resolve("surplus_hugepages"), surplus + "\n");
    write(dir.resolve("nr_overcommit_hugepages"), "0\n");
    return this;
  }

  HugepageTreeFixture node(int node, String sizeKb, long total, long free) {
    Path dir =
        sys.resolve("devices/system/node/node" + node + "/hugepages/hugepages-" + sizeKb + "kB");
    write(dir.resolve("nr_hugepages"), total + "\n");
    write(dir.resolve("free_hugepages"), free + "\n");
    write(dir.resolve("surplus_hugepages"), "0\n");
    return this;
  }

  HugepageTreeFixture mounts(String content) {
    write(proc.resolve("mounts"), content);
    return this;
  }

  static void write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
