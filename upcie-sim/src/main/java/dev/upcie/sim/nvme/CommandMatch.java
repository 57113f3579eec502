package dev.upcie.sim.nvme;

/**
 * Which commands a fault applies to: by queue, opcode and namespace. {@code -1} matches anything.
 *
 * <pre>{@code
 * CommandMatch.io(NvmeOpcodes.IO_READ).onNamespace(2)   // a Read of namespace 2, on any I/O queue
 * CommandMatch.admin(NvmeOpcodes.ADMIN_IDENTIFY)        // an Identify
 * CommandMatch.io(-1).onQueue(3)                        // anything on submission queue 3
 * }</pre>
 *
 * @param queue the submission queue: 0 for admin commands, -1 for any I/O queue
 * @param opcode the opcode, or -1 for any
 * @param nsid the namespace, or -1 for any
 */
public record CommandMatch(int queue, int opcode, long nsid) {
  private static final int ANY_IO_QUEUE = -1;

  /**
   * Checks the values.
   *
   * @throws IllegalArgumentException for a queue, opcode or namespace out of range
   */
  public CommandMatch {
    if (queue < ANY_IO_QUEUE || queue > 0xffff) {
      throw new IllegalArgumentException("queue " + queue + ": 0 (admin), 1 to 65535, or -1");
    }
    if (opcode < -1 || opcode > 0xff) {
      throw new IllegalArgumentException("opcode " + opcode + ": 0 to 255, or -1 for any");
    }
    if (nsid < -1 || nsid > 0xffff_ffffL) {
      throw new IllegalArgumentException("namespace " + nsid + ": 0 to 0xffffffff, or -1");
    }
  }

  /** Admin command {@code opcode} (-1: any admin command). */
  public static CommandMatch admin(int opcode) {
    return new CommandMatch(0, opcode, -1);
  }

  /** NVM command {@code opcode} (-1: any) on any I/O queue. */
  public static CommandMatch io(int opcode) {
    return new CommandMatch(ANY_IO_QUEUE, opcode, -1);
  }

  /** The same, on submission queue {@code queue} only. */
  public CommandMatch onQueue(int queue) {
    return new CommandMatch(queue, opcode, nsid);
  }

  /** The same, for namespace {@code nsid} only. */
  public CommandMatch onNamespace(long nsid) {
    return new CommandMatch(queue, opcode, nsid);
  }

  boolean matches(int sq, int commandOpcode, int commandNsid) {
    boolean queueMatches = queue == ANY_IO_QUEUE ? sq != 0 : queue == sq;
    return queueMatches
        && (opcode == -1 || opcode == commandOpcode)
        && (nsid == -1 || nsid == Integer.toUnsignedLong(commandNsid));
  }
}
