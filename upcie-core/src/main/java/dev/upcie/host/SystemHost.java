package dev.upcie.host;

import dev.upcie.procfs.Procfs;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Path;
import java.util.Objects;

/** A {@link Host} made of trees: this machine's, or copies and recordings laid out like them. */
record SystemHost(Sysfs sysfs, Procfs procfs, Path dev) implements Host {
  static final SystemHost SYSTEM = new SystemHost(Sysfs.system(), Procfs.system(), Path.of("/dev"));

  SystemHost {
    Objects.requireNonNull(sysfs, "sysfs");
    Objects.requireNonNull(procfs, "procfs");
    Objects.requireNonNull(dev, "dev");
  }

  @Override
  public String toString() {
    return equals(SYSTEM) ? "this machine" : "the machine of " + sysfs.root();
  }
}
