package dev.upcie.nvme;

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
    return NvmeRegisters.CSTS_RDY.isSet(value);
  }

  /** CFS: controller fatal status. */
  public boolean cfs() {
    return NvmeRegisters.CSTS_CFS.isSet(value);
  }

  /** SHST: shutdown status (0 normal operation, 1 in progress, 2 complete). */
  public int shst() {
    return (int) NvmeRegisters.CSTS_SHST.get(value);
  }

  /** NSSRO: an NVM subsystem reset occurred. */
  public boolean nssro() {
    return NvmeRegisters.CSTS_NSSRO.isSet(value);
  }

  /** PP: processing paused. */
  public boolean pp() {
    return NvmeRegisters.CSTS_PP.isSet(value);
  }

  /** True if the read returned {@code 0xffffffff}: no device answered. */
  public boolean isAllOnes() {
    return value == -1;
  }
}
