package dev.upcie.junit;

import java.util.Locale;
import org.junit.jupiter.api.extension.ParameterResolutionException;

/** Where {@link PciDevice} gets devices from. */
public enum Backend {
  /** The in-process simulated machine. */
  SIM,
  /** The machine's own devices through VFIO. */
  VFIO,
  /** VFIO where a matching device is bound to vfio-pci, else the simulator. */
  AUTO;

  /**
   * Parses a configured value, case-insensitively.
   *
   * @param source where the value came from, for the error message
   */
  static Backend parse(String value, String source) {
    try {
      return valueOf(value.strip().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ParameterResolutionException(
          source + "=" + value + " is not a backend: use sim, vfio or auto", e);
    }
  }
}
