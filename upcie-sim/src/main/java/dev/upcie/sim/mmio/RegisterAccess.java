package dev.upcie.sim.mmio;

/** How the host may change a simulated register. */
public enum RegisterAccess {
  /** Read-only: host writes are ignored, as hardware ignores them. */
  RO,
  /** Read-write: every bit the host writes is stored. */
  RW
}
