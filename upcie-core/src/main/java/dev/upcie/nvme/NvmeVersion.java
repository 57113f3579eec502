package dev.upcie.nvme;

/**
 * The Version register (VS, offset 0x08), decoded: {@code 0x00010400} is NVMe 1.4.0.
 *
 * @param value the raw 32-bit register value
 */
public record NvmeVersion(int value) {

  /** MJR: the major version. */
  public int major() {
    return (int) NvmeRegisters.VS_MJR.get(Integer.toUnsignedLong(value));
  }

  /** MNR: the minor version. */
  public int minor() {
    return (int) NvmeRegisters.VS_MNR.get(value);
  }

  /** TER: the tertiary version. */
  public int tertiary() {
    return (int) NvmeRegisters.VS_TER.get(value);
  }

  /** {@code 1.4.0}. */
  @Override
  public String toString() {
    return major() + "." + minor() + "." + tertiary();
  }
}
