package dev.upcie.backend;

import dev.upcie.pci.PciFunction;
import dev.upcie.support.UpcieException;
import java.util.Objects;

/** What a {@link DeviceBackend#probe} found: the function it would open, or why it cannot. */
public sealed interface Availability {

  /** True if the backend can serve. */
  default boolean isAvailable() {
    return this instanceof Available;
  }

  /**
   * The backend can open {@code function}.
   *
   * @param function the function it would open
   */
  record Available(PciFunction function) implements Availability {
    /** Checks the function. */
    public Available {
      Objects.requireNonNull(function, "function");
    }
  }

  /**
   * The backend cannot serve.
   *
   * @param failure why, and what to do about it: the exception opening would have thrown
   */
  record Unavailable(UpcieException failure) implements Availability {
    /** Checks the failure. */
    public Unavailable {
      Objects.requireNonNull(failure, "failure");
    }

    /** Unavailable for {@code reason}. */
    public Unavailable(String reason) {
      this(new UpcieException(reason));
    }

    /** Why, and what to do about it. */
    public String reason() {
      return failure.getMessage();
    }
  }
}
