package dev.upcie.kernel;

import dev.upcie.dma.DmaException;
import dev.upcie.host.Host;
import dev.upcie.support.Sizes;
import java.util.OptionalLong;

/**
 * The locked-memory limit VFIO enforces when it pins memory for DMA, checked before asking: the
 * kernel's own refusal is a bare {@code ENOMEM}.
 */
public final class Memlock {
  private Memlock() {}

  private static final long CAP_IPC_LOCK = 1L << 14;

  /**
   * Checks that pinning {@code bytes} more stays within {@code RLIMIT_MEMLOCK}; a process with
   * {@code CAP_IPC_LOCK} (root, or a service granted it) has no limit.
   *
   * @param what what is being attempted, for the message
   * @throws DmaException saying the limit, what is locked already, and how to raise it
   */
  public static void check(Host host, long bytes, String what) {
    if ((host.procfs().effectiveCapabilities() & CAP_IPC_LOCK) != 0) {
      return;
    }
    OptionalLong limit = host.procfs().memlockLimit();
    if (limit.isEmpty()) {
      return;
    }
    long locked = host.procfs().lockedMemory();
    if (locked + bytes > limit.getAsLong()) {
      throw new DmaException(
          "cannot "
              + what
              + ": VFIO pins DMA memory and counts it as locked, and "
              + Sizes.human(bytes)
              + " more would exceed this process's locked-memory limit (RLIMIT_MEMLOCK "
              + Sizes.human(limit.getAsLong())
              + ", "
              + Sizes.human(locked)
              + " locked already); raise it (ulimit -l, or LimitMEMLOCK= for a systemd"
              + " service), grant the process CAP_IPC_LOCK, or run as root");
    }
  }
}
