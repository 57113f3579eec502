package dev.upcie.doctor;

import dev.upcie.host.Host;
import dev.upcie.procfs.Procfs;
import dev.upcie.sysfs.Sysfs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A machine's {@code /sys}, {@code /proc}, {@code /dev} and {@code /lib/modules} as files in a
 * test's directory. It starts as an Intel server without an IOMMU, booted plainly, run by an
 * ordinary user (uid 1000, no capabilities, 8 MiB memlock), with the VFIO and UIO modules loadable
 * but not loaded, no hugepages reserved, and no lockdown; each method changes one of these.
 */
final class MachineFixture {
  static final String RELEASE = "6.1.0-test-amd64";

  private final Path sys;
  private final Path proc;
  private final Path dev;
  private final Path modules;
  private String cmdline = "BOOT_IMAGE=/vmlinuz-" + RELEASE + " root=/dev/sda1 ro quiet";
  private String mounts =
      "sysfs /sys sysfs rw,nosuid,nodev,noexec,relatime 0 0\n"
          + "proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0\n"
          + "securityfs /sys/kernel/security securityfs rw,nosuid,nodev,noexec,relatime 0 0\n";
  private String uid = "1000";
  private long capabilities;
  private String cpuFlags = "fpu vme de pse tsc msr";

  MachineFixture(Path dir) {
    this.sys = dir.resolve("sys");
    this.proc = dir.resolve("proc");
    this.dev = mkdirs(dir.resolve("dev"));
    this.modules = dir.resolve("lib/modules");
    write(proc.resolve("sys/kernel/osrelease"), RELEASE + "\n");
    write(proc.resolve("sys/kernel/tainted"), "0\n");
    write(proc.resolve("sys/kernel/modules_disabled"), "0\n");
    write(proc.resolve("meminfo"), "MemTotal:       16384000 kB\nHugepagesize:       2048 kB\n");
    memlock("8388608", "8388608");
    write(sys.resolve("kernel/security/lockdown"), "[none] integrity confidentiality\n");
    mkdirs(sys.resolve("class/iommu"));
    mkdirs(sys.resolve("kernel/iommu_groups"));
    mkdirs(sys.resolve("bus/pci/drivers"));
    mkdirs(sys.resolve("module"));
    hugepages(2048, 0, 0);
    write(modules.resolve(RELEASE + "/modules.builtin"), "kernel/drivers/pci/pcie/portdrv.ko\n");
    write(
        modules.resolve(RELEASE + "/modules.dep"),
        """
        kernel/drivers/vfio/vfio.ko.xz: kernel/drivers/iommu/iommufd/iommufd.ko.xz
        kernel/drivers/vfio/vfio_iommu_type1.ko.xz: kernel/drivers/vfio/vfio.ko.xz
        kernel/drivers/vfio/pci/vfio-pci-core.ko.xz: kernel/drivers/vfio/vfio.ko.xz
        kernel/drivers/vfio/pci/vfio-pci.ko.xz: kernel/drivers/vfio/pci/vfio-pci-core.ko.xz
        kernel/drivers/iommu/iommufd/iommufd.ko.xz:
        kernel/drivers/uio/uio.ko.xz:
        kernel/drivers/uio/uio_pci_generic.ko.xz: kernel/drivers/uio/uio.ko.xz
        """);
    status();
  }

  /** The machine as a host. */
  Host host() {
    return Host.of(Sysfs.of(sys), Procfs.of(proc), dev);
  }

  /** A doctor for it, reading this fixture's module index. */
  Diagnosis examine() {
    return Doctor.of(host()).withModules(modules).examine();
  }

  Path modules() {
    return modules;
  }

  /** An Intel IOMMU with {@code groups} groups, as {@code intel_iommu=on} gives it. */
  MachineFixture iommu(int groups) {
    mkdirs(sys.resolve("class/iommu/dmar0"));
    for (int g = 0; g < groups; g++) {
      mkdirs(sys.resolve("kernel/iommu_groups/" + g + "/devices"));
    }
    return cmdline("intel_iommu=on iommu=pt");
  }

  /** Adds words to the kernel command line. */
  MachineFixture cmdline(String words) {
    cmdline += " " + words;
    return write(proc.resolve("cmdline"), cmdline + "\n");
  }

  /** The CPU runs under a hypervisor. */
  MachineFixture virtualMachine() {
    cpuFlags += " hypervisor";
    return status();
  }

  /** Loads a module: {@code /sys/module/NAME} with {@code initstate}, and its PCI driver. */
  MachineFixture loaded(String module, String driver) {
    write(sys.resolve("module/" + module + "/initstate"), "live\n");
    if (driver != null) {
      mkdirs(sys.resolve("bus/pci/drivers/" + driver));
    }
    return this;
  }

  /** Loads vfio, vfio_iommu_type1 and vfio-pci, with the no-IOMMU mode as given. */
  MachineFixture vfioLoaded(String noiommu) {
    loaded("vfio", null).loaded("vfio_iommu_type1", null).loaded("vfio_pci", "vfio-pci");
    write(sys.resolve("module/vfio_iommu_type1/parameters/dma_entry_limit"), "65535\n");
    if (noiommu != null) {
      write(sys.resolve(Facts.NOIOMMU_PARAMETER), noiommu + "\n");
    }
    return this;
  }

  /** A vfio no-IOMMU group, as binding vfio-pci in that mode makes it. */
  MachineFixture noiommuGroup(int group) {
    return file("kernel/iommu_groups/" + group + "/name", "vfio-noiommu\n");
  }

  /** Replaces the module index's {@code modules.dep}. */
  MachineFixture modulesDep(String content) {
    return write(modules.resolve(RELEASE + "/modules.dep"), content);
  }

  /** The process's locked-memory limits, as {@code /proc/self/limits} writes them. */
  MachineFixture memlock(String soft, String hard) {
    return write(
        proc.resolve("self/limits"),
        String.format(
            "Limit                     Soft Limit           Hard Limit           Units%n"
                + "Max locked memory         %-20s %-20s bytes%n",
            soft, hard));
  }

  /** The process runs as root with every capability. */
  MachineFixture root() {
    uid = "0";
    capabilities = 0x1ff_ffff_ffffL;
    return status();
  }

  /** A pool of {@code kb}-kB pages: total, free, and pages allowed on demand. */
  MachineFixture hugepages(long kb, long total, long free) {
    String dir = "kernel/mm/hugepages/hugepages-" + kb + "kB/";
    file(dir + "nr_hugepages", total + "\n");
    file(dir + "free_hugepages", free + "\n");
    file(dir + "resv_hugepages", "0\n");
    file(dir + "surplus_hugepages", "0\n");
    return file(dir + "nr_overcommit_hugepages", "0\n");
  }

  /** Adds a line to {@code /proc/mounts}. */
  MachineFixture mount(String line) {
    mounts += line + "\n";
    return write(proc.resolve("mounts"), mounts);
  }

  /** Replaces {@code /proc/mounts}. */
  MachineFixture mounts(String content) {
    mounts = content;
    return write(proc.resolve("mounts"), mounts);
  }

  /** Writes a file under {@code /sys}. */
  MachineFixture file(String path, String content) {
    return write(sys.resolve(path), content);
  }

  /** Writes a file under {@code /proc}. */
  MachineFixture procFile(String path, String content) {
    return write(proc.resolve(path), content);
  }

  /** Creates an empty file (a device node's stand-in) under {@code /dev}. */
  MachineFixture node(String path) {
    return write(dev.resolve(path), "");
  }

  /** Creates a directory under {@code /sys}. */
  MachineFixture sysDir(String path) {
    mkdirs(sys.resolve(path));
    return this;
  }

  private MachineFixture status() {
    write(proc.resolve("cmdline"), cmdline + "\n");
    write(proc.resolve("mounts"), mounts);
    write(
        proc.resolve("self/status"),
        String.format(
            "Name:\tjava%nUid:\t%s\t%s\t%s\t%s%nVmLck:\t       0 kB%nCapEff:\t%016x%n",
            uid, uid, uid, uid, capabilities));
    return write(
        proc.resolve("cpuinfo"),
        "processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: " + cpuFlags + "\n\n");
  }

  private MachineFixture write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return this;
  }

  private static Path mkdirs(Path dir) {
    try {
      return Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
