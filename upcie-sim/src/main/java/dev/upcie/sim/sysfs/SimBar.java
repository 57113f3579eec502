package dev.upcie.sim.sysfs;

/**
 * A memory BAR of a simulated function: its size and whether it is a 64-bit BAR (which takes two of
 * the six BAR slots, as QEMU's NVMe BAR0 does) or a 32-bit one (as {@code edu}'s BAR0 is).
 *
 * @param size the size in bytes: 0 for an unimplemented BAR, else a power of two of at least 16
 * @param wide true for a 64-bit BAR
 */
public record SimBar(long size, boolean wide) {
  /** An unimplemented BAR slot. */
  public static final SimBar NONE = new SimBar(0, false);

  /** Checks the size. */
  public SimBar {
    if (size != 0 && (size < 16 || Long.bitCount(size) != 1)) {
      throw new IllegalArgumentException(
          "BAR sizes are powers of two of at least 16 bytes: " + size);
    }
  }

  /** True if the slot holds a BAR. */
  public boolean implemented() {
    return size != 0;
  }
}
