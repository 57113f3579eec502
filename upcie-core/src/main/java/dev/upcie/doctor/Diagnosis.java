package dev.upcie.doctor;

import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Everything {@link Doctor} found out about a machine, one {@link Finding} per check, in a fixed
 * order.
 *
 * <pre>{@code
 * Diagnosis diagnosis = Doctor.of(Host.system()).examine();
 * diagnosis.findings().forEach(f -> System.out.println(f.status() + " " + f.found()));
 * System.exit(diagnosis.hasProblems() ? 7 : 0);
 * }</pre>
 *
 * @param findings the findings, in the order the checks ran
 */
public record Diagnosis(List<Finding> findings) {

  /** Copies the findings. */
  public Diagnosis {
    findings = List.copyOf(findings);
  }

  /** The finding with this id, if that check ran. */
  public Optional<Finding> find(String id) {
    return findings.stream().filter(f -> f.id().equals(id)).findFirst();
  }

  /** True if some finding is a {@link Finding.Status#PROBLEM}. */
  public boolean hasProblems() {
    return findings.stream().anyMatch(f -> f.status() == Finding.Status.PROBLEM);
  }

  /**
   * The findings that need attention: problems first, then warnings, then what could not be told.
   */
  public List<Finding> attention() {
    return findings.stream()
        .filter(f -> f.status() != Finding.Status.OK)
        .sorted(Comparator.comparingInt(f -> rank(f.status())))
        .toList();
  }

  private static int rank(Finding.Status status) {
    return switch (status) {
      case PROBLEM -> 0;
      case WARNING -> 1;
      case UNKNOWN -> 2;
      case OK -> 3;
    };
  }
}
