package dev.upcie.sim.mmio;

/**
 * What a simulated register file does with an access whose width or offset does not match a
 * register, as the device it models does. Accesses are always naturally aligned 32 or 64-bit ones:
 * {@link dev.upcie.mmio.Mmio} refuses anything else before it reaches a device.
 */
public enum WidthRule {
  /**
   * The registers are bytes in memory: a 64-bit access covering two 32-bit registers reads or
   * writes both, a 32-bit access to half of a 64-bit register reads or writes that half. QEMU's
   * NVMe controller works this way.
   */
  BYTES,
  /**
   * An access must start at a register: a register's own width always works, and a 32-bit access to
   * a 64-bit register reads its low half or writes the value zero-extended; anything else reads as
   * unimplemented space and its writes are dropped. QEMU's {@code edu} works this way (its
   * registers below 0x80 take 32-bit accesses only).
   */
  DECLARED
}
