package dev.upcie.host;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.pci.PciBus;
import dev.upcie.procfs.Procfs;
import dev.upcie.support.EnvironmentException;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.FileSystems;
import java.nio.file.Path;

/**
 * One machine as the backends see it: its sysfs, its procfs, and its device nodes ({@code /dev}).
 *
 * <p>{@link #system()} is this machine. {@link #of} puts other trees in place of the kernel's: a
 * copy, a recording, or a simulated machine (which implements this interface itself), so a tool or
 * backend reads one coherent world instead of this machine's {@code /sys} and someone else's {@code
 * /dev}.
 *
 * <pre>{@code
 * Host host = Host.system();
 * List<PciFunction> nvmes = host.bus().select(PciSelector.any().withClass(PciClassCode.NVME));
 * PciDeviceHandle nvme = DeviceBackends.named("vfio").open(PciSelector.any().withClass(..), host);
 * }</pre>
 *
 * <p>A backend opens device nodes under {@link #dev()} and checks the rest of its preflight against
 * {@link #sysfs()} and {@link #procfs()}. Device nodes only a kernel can open ({@code /dev/vfio/N},
 * {@code /dev/uioN}) exist as such only when {@link #isReal()}; see {@code docs/architecture.md}
 * for what the real backends do on a simulated host.
 */
public interface Host {

  /** This machine: {@code /sys}, {@code /proc} and {@code /dev}. */
  static Host system() {
    return SystemHost.SYSTEM;
  }

  /**
   * A machine whose kernel interfaces are the given trees. The device nodes in {@code dev} are
   * opened with this machine's system calls when it is on the default file system.
   */
  static Host of(Sysfs sysfs, Procfs procfs, Path dev) {
    return new SystemHost(sysfs, procfs, dev);
  }

  /** The machine's sysfs. */
  Sysfs sysfs();

  /** The machine's procfs. */
  Procfs procfs();

  /** The directory of the machine's device nodes: {@code /dev} on a real machine. */
  Path dev();

  /** The PCI functions {@link #sysfs()} lists. */
  default PciBus bus() {
    return new PciBus(sysfs());
  }

  /** The machine's hugepage pools and mounts. */
  default Hugepages hugepages() {
    return new Hugepages(sysfs(), procfs());
  }

  /**
   * Loads the kernel module {@code module} (a module name, a driver name such as {@code vfio-pci},
   * or a modalias), as {@code modprobe} does, and returns once the kernel has it.
   *
   * @throws EnvironmentException if it cannot be loaded: no such module for this kernel, no root,
   *     no {@code modprobe}; or this host is a copy of another machine's trees, whose kernel this
   *     process cannot reach
   */
  default void loadModule(String module) {
    if (!isReal() || !sysfs().root().equals(Path.of("/sys"))) {
      throw new EnvironmentException(
          "cannot load module "
              + module
              + " on "
              + this
              + ": its sysfs ("
              + sysfs().root()
              + ") is not this machine's kernel; load it there with `modprobe "
              + module
              + "`");
    }
    Modprobe.load(module);
  }

  /**
   * Where uPCIe keeps what must outlive one process on this machine: the binding journal and the
   * device locks. {@code /run/upcie} on a real machine, a tmpfs that a reboot empties just as it
   * forgets the bindings; inside a simulated machine's own file system otherwise.
   */
  default Path runtimeDirectory() {
    return dev().getFileSystem().getPath("/run/upcie");
  }

  /**
   * True if {@link #dev()} holds device nodes the kernel can open: it lies on the default file
   * system. A simulated machine's does not.
   */
  default boolean isReal() {
    return dev().getFileSystem() == FileSystems.getDefault();
  }
}
