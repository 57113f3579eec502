package dev.upcie.kernel;

import dev.upcie.host.Host;
import dev.upcie.support.NotSupportedException;

/** Checks the real backends make of a host before they ask its kernel for anything. */
public final class Preflight {
  private Preflight() {}

  /**
   * Requires a host whose device nodes the kernel can open.
   *
   * @throws NotSupportedException for a simulated host, pointing at the sim backend
   */
  public static void requireRealHost(Host host, String backend) {
    if (!host.isReal()) {
      throw new NotSupportedException(
          host
              + " is simulated: the "
              + backend
              + " backend opens devices through the kernel, which a simulated machine does not"
              + " have; its devices are opened by the sim backend");
    }
  }
}
