package dev.upcie.sim.mmio;

/**
 * What a device model does when the host writes somewhere in a range of its BAR that no declared
 * register decodes, such as NVMe's doorbells: a thousand registers that would each do the same
 * thing. It runs after the write, without the register file's lock, on the writing thread.
 */
@FunctionalInterface
public interface RangeWriteHook {

  /** The host wrote {@code value} ({@code width} bytes) at {@code offset} in the BAR. */
  void written(long offset, long value, int width);
}
