package dev.upcie.pci;

import java.util.List;
import java.util.stream.Collectors;

/**
 * A safety check refused to move a function, and nothing was changed. Each refusal names its check;
 * overriding that check by name (and only that one) lets the move go ahead.
 */
public final class BindRefusedException extends PciException {
  private static final long serialVersionUID = 1L;

  /** The refusals; kept out of serialization, which exceptions of this library never need. */
  private final transient List<BindRefusal> refusals;

  /** Creates the exception for {@code action} ("bind 0000:01:00.0 to vfio-pci"). */
  public BindRefusedException(String action, List<BindRefusal> refusals) {
    super(message(action, refusals));
    this.refusals = List.copyOf(refusals);
  }

  /** Why, one refusal per check that failed. */
  public List<BindRefusal> refusals() {
    return refusals;
  }

  private static String message(String action, List<BindRefusal> refusals) {
    String names =
        refusals.stream()
            .map(r -> r.check().forceName())
            .distinct()
            .map(n -> "--force=" + n)
            .collect(Collectors.joining(" "));
    return "refused to "
        + action
        + ", and changed nothing: "
        + refusals.stream().map(BindRefusal::toString).collect(Collectors.joining("; "))
        + " (to override, and only then: "
        + names
        + ")";
  }
}
