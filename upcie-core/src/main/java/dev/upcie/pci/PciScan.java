package dev.upcie.pci;

import java.util.List;

/**
 * What a tolerant read of the bus found ({@link PciBus#scan()}): the functions it could read, in
 * address order, and the entries it could not, each with what was wrong. A listing shows the first
 * and reports the second, so one malformed or vanishing function does not hide the others.
 *
 * <pre>{@code
 * PciScan scan = new PciBus(Sysfs.system()).scan();
 * scan.functions().forEach(f -> System.out.println(f.summary()));
 * scan.problems().forEach(p -> System.err.println(p));
 * if (!scan.isComplete()) { ... } // a partial listing
 * }</pre>
 *
 * @param functions the functions read, ordered by address
 * @param problems the entries of {@code bus/pci/devices} that could not be read, by name
 */
public record PciScan(List<PciFunction> functions, List<Problem> problems) {
  /** Copies both lists. */
  public PciScan {
    functions = List.copyOf(functions);
    problems = List.copyOf(problems);
  }

  /** Whether every function was read. */
  public boolean isComplete() {
    return problems.isEmpty();
  }

  /**
   * An entry the scan could not read.
   *
   * @param name the entry's name under {@code bus/pci/devices}, normally its address
   * @param kind what kind of trouble
   * @param detail what exactly, naming the file
   */
  public record Problem(String name, Kind kind, String detail) {
    @Override
    public String toString() {
      return name + ": " + detail;
    }
  }

  /** The kinds of trouble a scan reports. */
  public enum Kind {
    /** An attribute is missing or holds something the kernel never writes there. */
    MALFORMED,
    /** The function was removed while the scan read it (hot unplug, or a rescan). */
    VANISHED,
    /** An attribute could not be read: permissions, or an I/O error. */
    UNREADABLE
  }
}
