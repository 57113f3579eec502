package dev.upcie.doctor;

import dev.upcie.doctor.Finding.Status;
import dev.upcie.host.Host;
import dev.upcie.support.InvalidInputException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.function.Supplier;

/**
 * Examines a machine for what user-space PCIe drivers need of it, and says for each thing what it
 * found and the command that fixes it: the IOMMU and how the kernel was booted, the VFIO and UIO
 * modules, no-IOMMU mode, iommufd, VFIO's mapping limit, lockdown, a read-only {@code /sys}, the
 * locked-memory limit, and hugepages.
 *
 * <pre>{@code
 * Diagnosis diagnosis = Doctor.of(Host.system()).examine();
 * for (Finding f : diagnosis.attention()) {
 *   System.out.println(f.status() + " " + f.found() + f.fix().map(c -> "; fix: " + c).orElse(""));
 * }
 * }</pre>
 *
 * <p>It reads only, through the host's {@link Host#sysfs() sysfs}, {@link Host#procfs() procfs} and
 * {@link Host#dev() /dev}, so it needs no root and runs the same on this machine, a copy of its
 * trees, or a simulated one. The module index ({@code modules.builtin}, {@code modules.dep}) lies
 * outside those trees, in {@code /lib/modules} on the host's file system unless {@link
 * #withModules} names another directory. What it cannot read makes a finding {@link
 * Finding.Status#UNKNOWN}, never an exception.
 */
public final class Doctor {
  /** The ids of the findings, in the order {@link #examine()} gives them. */
  public static final List<String> CHECKS =
      List.of(
          "privileges",
          "iommu",
          "noiommu",
          "vfio-modules",
          "dma-entry-limit",
          "iommufd",
          "uio-modules",
          "lockdown",
          "sysfs-writable",
          "memlock",
          "hugepages",
          "hugetlbfs");

  private final Host host;
  private final Path modules;
  private final OptionalLong memlockNeed;

  private Doctor(Host host, Path modules, OptionalLong memlockNeed) {
    this.host = Objects.requireNonNull(host, "host");
    this.modules = Objects.requireNonNull(modules, "modules");
    this.memlockNeed = memlockNeed;
  }

  /** A doctor for {@code host}, with its module index under {@code /lib/modules} beside it. */
  public static Doctor of(Host host) {
    return new Doctor(
        host, host.dev().getFileSystem().getPath("/lib/modules"), OptionalLong.empty());
  }

  /**
   * Reads the module index from {@code directory}/RELEASE/{@code modules.builtin} and {@code
   * modules.dep} instead of {@code /lib/modules}.
   */
  public Doctor withModules(Path directory) {
    return new Doctor(host, directory, memlockNeed);
  }

  /**
   * Holds the locked-memory limit to {@code bytes} of DMA memory, instead of every reserved
   * hugepage (at least 64 MiB).
   *
   * @throws InvalidInputException if {@code bytes} is not positive
   */
  public Doctor withMemlockNeed(long bytes) {
    if (bytes <= 0) {
      throw new InvalidInputException("a memlock need must be positive, not " + bytes);
    }
    return new Doctor(host, modules, OptionalLong.of(bytes));
  }

  /** Runs every check, in the order of {@link #CHECKS}. */
  public Diagnosis examine() {
    Facts facts = new Facts(new Trees(host, modules));
    IommuChecks iommu = new IommuChecks(facts);
    DriverChecks drivers = new DriverChecks(facts);
    ProcessChecks process = new ProcessChecks(facts);
    MemoryChecks memory = new MemoryChecks(facts, memlockNeed);
    List<Finding> findings = new ArrayList<>();
    findings.add(guard("privileges", process::privileges));
    findings.add(guard("iommu", iommu::iommu));
    findings.add(guard("noiommu", iommu::noiommu));
    findings.add(guard("vfio-modules", drivers::vfioModules));
    findings.add(guard("dma-entry-limit", iommu::dmaEntryLimit));
    findings.add(guard("iommufd", iommu::iommufd));
    findings.add(guard("uio-modules", drivers::uioModules));
    findings.add(guard("lockdown", drivers::lockdown));
    findings.add(guard("sysfs-writable", process::sysfsWritable));
    findings.add(guard("memlock", memory::memlock));
    findings.add(guard("hugepages", memory::hugepages));
    findings.add(guard("hugetlbfs", memory::hugetlbfs));
    return new Diagnosis(findings);
  }

  /** One check's finding; what stops it becomes an UNKNOWN finding, so the rest still run. */
  private static Finding guard(String id, Supplier<Finding> check) {
    try {
      return check.get();
    } catch (Unreadable e) {
      return Finding.of(
          id,
          Status.UNKNOWN,
          "could not read " + e.getMessage() + (e.denied() ? "; run as root to see it" : ""),
          null);
    } catch (RuntimeException e) {
      return Finding.of(id, Status.UNKNOWN, "could not tell: " + e.getMessage(), null);
    }
  }

  @Override
  public String toString() {
    return "the doctor of " + host;
  }
}
