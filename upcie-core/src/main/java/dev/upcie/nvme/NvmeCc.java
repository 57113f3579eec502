package dev.upcie.nvme;

import dev.upcie.support.Bits;

/**
 * The Controller Configuration register (CC, offset 0x14), decoded.
 *
 * @param value the raw 32-bit register value
 */
public record NvmeCc(int value) {

  /** EN: the host wants the controller enabled. */
  public boolean en() {
    return Bits.test(value, 0);
  }

  /** CSS: the I/O command set selected (0 NVM, 6 all supported I/O command sets, 7 admin only). */
  public int css() {
    return (int) Bits.get(value, 4, 3);
  }

  /** MPS: the host memory page size is {@code 2^(12 + mps)} bytes. */
  public int mps() {
    return (int) Bits.get(value, 7, 4);
  }

  /** AMS: the arbitration mechanism selected. */
  public int ams() {
    return (int) Bits.get(value, 11, 3);
  }

  /** SHN: shutdown notification (0 none, 1 normal, 2 abrupt). */
  public int shn() {
    return (int) Bits.get(value, 14, 2);
  }

  /** IOSQES: I/O submission queue entry size is {@code 2^iosqes} bytes (6 for 64 bytes). */
  public int iosqes() {
    return (int) Bits.get(value, 16, 4);
  }

  /** IOCQES: I/O completion queue entry size is {@code 2^iocqes} bytes (4 for 16 bytes). */
  public int iocqes() {
    return (int) Bits.get(value, 20, 4);
  }
}
