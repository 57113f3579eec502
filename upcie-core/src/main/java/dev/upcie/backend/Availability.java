package dev.upcie.backend;

import dev.upcie.host.Host;
import dev.upcie.pci.PciFunction;
import dev.upcie.support.UpcieException;
import java.util.Objects;

/**
 * What a {@link DeviceBackend#probe} found: the function it would open and the machine it is on, or
 * why it cannot.
 */
public sealed interface Availability {

  /** True if the backend can serve. */
  default boolean isAvailable() {
    return this instanceof Available;
  }

  /**
   * The backend can open {@code function} on {@code host}.
   *
   * @param function the function it would open
   * @param host the machine it is on: the one probed, or (the simulator, probed with a real
   *     machine) the machine the backend serves instead
   */
  record Available(PciFunction function, Host host) implements Availability {
    /** Checks both. */
    public Available {
      Objects.requireNonNull(function, "function");
      Objects.requireNonNull(host, "host");
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

    /** Why, and what to do about it. */
    public String reason() {
      return failure.getMessage();
    }
  }
}
