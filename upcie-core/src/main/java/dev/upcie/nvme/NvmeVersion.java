package dev.upcie.nvme;

import dev.upcie.support.Bits;

/**
 * The Version register (VS, offset 0x08), decoded: {@code 0x00010400} is NVMe 1.4.0.
 *
 * @param value the raw 32-bit register value
 */
public record NvmeVersion(int value) {

  /** MJR: the major version. */
  public int major() {
    return (int) Bits.get(Integer.toUnsignedLong(value), 16, 16);
  }

  /** MNR: the minor version. */
  public int minor() {
    return (int) Bits.get(value, 8, 8);
  }

  /** TER: the tertiary version. */
  public int tertiary() {
    return (int) Bits.get(value, 0, 8);
  }

  /** {@code 1.4.0}. */
  @Override
  public String toString() {
    return major() + "." + minor() + "." + tertiary();
  }
}
