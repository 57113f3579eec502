package dev.upcie.nvme.driver;

import dev.upcie.nvme.NvmeOpcodes;

/** Words for commands in messages: built only when something went wrong. */
final class Commands {
  private Commands() {}

  /** {@code "Read (nsid 1, slba 0x0, 8 blocks)"}, {@code "Identify (nsid 0)"}. */
  static String describe(boolean admin, int opcode, int nsid, long slba, int blocks) {
    String name = admin ? NvmeOpcodes.adminName(opcode) : NvmeOpcodes.ioName(opcode);
    StringBuilder text = new StringBuilder(name).append(" (nsid ").append(nsid);
    if (blocks > 0) {
      text.append(", slba 0x")
          .append(Long.toHexString(slba))
          .append(", ")
          .append(blocks)
          .append(blocks == 1 ? " block" : " blocks");
    }
    return text.append(')').toString();
  }
}
