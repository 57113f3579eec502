package dev.upcie.nvme;

import dev.upcie.support.Bits;

/**
 * The Controller Status register (CSTS, offset 0x1c), decoded.
 *
 * <p>A read of all ones means the device did not answer (surprise removal, or a BAR not mapped to
 * the device); {@link #isAllOnes()} says so.
 *
 * @param value the raw 32-bit register value
 */
public record NvmeCsts(int value) {

  /** RDY: the controller is ready to process commands. */
  public boolean rdy() {
    return Bits.test(value, 0);
  }

  /** CFS: controller fatal status. */
  public boolean cfs() {
    return Bits.test(value, 1);
  }

  /** SHST: shutdown status (0 normal operation, 1 in progress, 2 complete). */
  public int shst() {
    return (int) Bits.get(value, 2, 2);
  }

  /** NSSRO: an NVM subsystem reset occurred. */
  public boolean nssro() {
    return Bits.test(value, 4);
  }

  /** PP: processing paused. */
  public boolean pp() {
    return Bits.test(value, 5);
  }

  /** True if the read returned {@code 0xffffffff}: no device answered. */
  public boolean isAllOnes() {
    return value == -1;
  }
}
