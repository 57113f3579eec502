package dev.upcie.doctor;

import dev.upcie.doctor.Finding.Status;
import dev.upcie.procfs.MountEntry;
import java.util.Optional;

/** Who is asking, and whether the machine lets anyone change its drivers from here. */
final class ProcessChecks {
  private final Trees trees;

  ProcessChecks(Facts facts) {
    this.trees = facts.trees();
  }

  Finding privileges() {
    Optional<String> status = trees.proc("self/status");
    Optional<String> uid =
        status.flatMap(s ->
            s.lines()
                .filter(l -> l.startsWith("Uid:"))
                .findFirst()
                .map(l -> l.substring("Uid:".length()).strip().split("\\s+"))
                .filter(ids -> ids.length > 1)
                .map(ids -> ids[1]));
    if (uid.isEmpty()) {
      return Finding.of(
          "privileges",
          Status.UNKNOWN,
          "who this process runs as is unknown (no Uid line in "
              + trees.procPath("self/status")
              + ")",
          null);
    }
    if (uid.get().equals("0")) {
      return Finding.ok(
          "privileges",
          "running as root (effective uid 0 in " + trees.procPath("self/status") + ")");
    }
    return Finding.ok(
        "privileges",
        "running as uid "
            + uid.get()
            + ", not root ("
            + trees.procPath("self/status")
            + "): every check reads what any user may read, and the fixes need root (sudo)");
  }

  Finding sysfsWritable() {
    Optional<MountEntry> sysfs =
        trees.host().procfs().mounts().stream()
            .filter(m -> m.type().equals("sysfs") && m.mountPoint().toString().equals("/sys"))
            .reduce((first, later) -> later);
    if (sysfs.isEmpty()) {
      return Finding.of(
          "sysfs-writable",
          Status.UNKNOWN,
          "no sysfs on /sys in " + trees.procPath("mounts"),
          "mount -t sysfs sysfs /sys");
    }
    if (sysfs.get().options().contains("ro")) {
      return Finding.of(
          "sysfs-writable",
          Status.WARNING,
          "/sys is mounted read-only ("
              + trees.procPath("mounts")
              + "), as in a container: binding drivers and reserving hugepages fail here; do"
              + " them on the host, or give the container a writable /sys (docker run"
              + " --privileged)",
          null);
    }
    return Finding.ok(
        "sysfs-writable", "/sys is mounted read-write (" + trees.procPath("mounts") + ")");
  }
}
