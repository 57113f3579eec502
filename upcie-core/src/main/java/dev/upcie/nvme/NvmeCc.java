package dev.upcie.nvme;

/**
 * The Controller Configuration register (CC, offset 0x14), decoded.
 *
 * @param value the raw 32-bit register value
 */
public record NvmeCc(int value) {

  /** EN: the host wants the controller enabled. */
  public boolean en() {
    return NvmeRegisters.CC_EN.isSet(value);
  }

  /** CSS: the I/O command set selected (0 NVM, 6 all supported I/O command sets, 7 admin only). */
  public int css() {
    return (int) NvmeRegisters.CC_CSS.get(value);
  }

  /** MPS: the host memory page size is {@code 2^(12 + mps)} bytes. */
  public int mps() {
    return (int) NvmeRegisters.CC_MPS.get(value);
  }

  /** AMS: the arbitration mechanism selected. */
  public int ams() {
    return (int) NvmeRegisters.CC_AMS.get(value);
  }

  /** SHN: shutdown notification (0 none, 1 normal, 2 abrupt). */
  public int shn() {
    return (int) NvmeRegisters.CC_SHN.get(value);
  }

  /** IOSQES: I/O submission queue entry size is {@code 2^iosqes} bytes (6 for 64 bytes). */
  public int iosqes() {
    return (int) NvmeRegisters.CC_IOSQES.get(value);
  }

  /** IOCQES: I/O completion queue entry size is {@code 2^iocqes} bytes (4 for 16 bytes). */
  public int iocqes() {
    return (int) NvmeRegisters.CC_IOCQES.get(value);
  }
}
