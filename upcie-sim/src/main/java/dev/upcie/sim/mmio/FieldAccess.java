package dev.upcie.sim.mmio;

/**
 * How the host (the driver) may change the bits of a simulated register field. The device side
 * ({@link RegisterFile#store}) changes any bit regardless.
 */
public enum FieldAccess {
  /** Read-only: the device sets it, host writes are ignored. */
  RO,
  /** Read-write: the host's value is stored. */
  RW,
  /** Read, write 1 to clear: a 1 written clears the bit, a 0 leaves it (status bits). */
  RW1C,
  /** Read, write 1 to set: a 1 written sets the bit, a 0 leaves it. */
  RW1S,
  /**
   * Write-only: the write reaches the register's write hook and is not stored; reads return what
   * unimplemented space returns ({@link RegisterFile.Builder#unimplementedReads}), as a doorbell.
   */
  WO,
  /** Reserved, zero: reads 0, writes are ignored. */
  RSVDZ
}
