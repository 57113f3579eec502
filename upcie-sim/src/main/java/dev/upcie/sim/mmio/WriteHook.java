package dev.upcie.sim.mmio;

/**
 * What a device model does when the host writes a register: ring a doorbell, start a command. It
 * runs after the write was stored and without the register file's lock held, on the writing thread,
 * so it may read and store registers and hand work to the device's scheduler without deadlocking a
 * device thread that does the same.
 */
@FunctionalInterface
public interface WriteHook {

  /**
   * The host wrote {@code value} to the register: the bits this access wrote, in the register's
   * positions (a 32-bit write to the upper half of a 64-bit register comes shifted), whatever the
   * fields' access types.
   */
  void written(long value);
}
