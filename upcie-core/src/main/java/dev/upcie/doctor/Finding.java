package dev.upcie.doctor;

import java.util.Objects;
import java.util.Optional;

/**
 * One thing {@link Doctor} found out about a machine: what it looked at, what it saw, and the
 * command that would fix it.
 *
 * <pre>{@code
 * Finding iommu = Doctor.of(Host.system()).examine().find("iommu").orElseThrow();
 * if (iommu.status() != Finding.Status.OK) {
 *   System.out.println(iommu.found() + iommu.fix().map(f -> "; fix: " + f).orElse(""));
 * }
 * }</pre>
 *
 * @param id a stable name for the check ({@code iommu}, {@code vfio-modules}, {@code memlock}...):
 *     scripts may match on it, so it never changes meaning
 * @param status how it stands
 * @param found what was seen, as a sentence naming the files it was read from
 * @param fix the exact command that fixes it, where there is one
 */
public record Finding(String id, Status status, String found, Optional<String> fix) {

  /** How a finding stands. */
  public enum Status {
    /** Nothing to do. */
    OK,
    /** Works, but unsafely, slowly, or only one way; worth fixing. */
    WARNING,
    /** A user-space driver cannot work on this machine until it is fixed. */
    PROBLEM,
    /** Could not be told: a file was unreadable (usually for want of root) or missing. */
    UNKNOWN
  }

  /** Checks the parts. */
  public Finding {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(found, "found");
    Objects.requireNonNull(fix, "fix");
  }

  static Finding ok(String id, String found) {
    return new Finding(id, Status.OK, found, Optional.empty());
  }

  static Finding of(String id, Status status, String found, String fix) {
    return new Finding(id, status, found, Optional.ofNullable(fix));
  }
}
