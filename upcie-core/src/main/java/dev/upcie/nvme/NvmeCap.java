package dev.upcie.nvme;

import java.time.Duration;

/**
 * The Controller Capabilities register (CAP, offset 0x00), decoded.
 *
 * @param value the raw 64-bit register value
 */
public record NvmeCap(long value) {

  /** MQES: maximum queue entries supported, 0-based (so the largest queue has {@code mqes()+1}). */
  public int mqes() {
    return (int) NvmeRegisters.CAP_MQES.get(value);
  }

  /** CQR: true if I/O queues must be physically contiguous. */
  public boolean cqr() {
    return NvmeRegisters.CAP_CQR.isSet(value);
  }

  /** AMS: arbitration mechanisms supported beyond round robin (bit 0 WRR, bit 1 vendor). */
  public int ams() {
    return (int) NvmeRegisters.CAP_AMS.get(value);
  }

  /** TO: worst-case time to become ready, in 500 ms units. */
  public int to() {
    return (int) NvmeRegisters.CAP_TO.get(value);
  }

  /** {@link #to()} as a duration: how long to wait for CSTS.RDY to follow CC.EN. */
  public Duration readyTimeout() {
    return Duration.ofMillis(500L * to());
  }

  /** DSTRD: doorbell stride exponent; doorbells are {@code 4 << dstrd} bytes apart. */
  public int dstrd() {
    return (int) NvmeRegisters.CAP_DSTRD.get(value);
  }

  /** The distance between doorbell registers, in bytes. */
  public int doorbellStride() {
    return 4 << dstrd();
  }

  /** NSSRS: true if NVM subsystem reset is supported. */
  public boolean nssrs() {
    return NvmeRegisters.CAP_NSSRS.isSet(value);
  }

  /** CSS: command sets supported (bit 0 NVM, bit 6 I/O command sets, bit 7 admin only). */
  public int css() {
    return (int) NvmeRegisters.CAP_CSS.get(value);
  }

  /** MPSMIN: minimum memory page size is {@code 2^(12 + mpsmin)} bytes. */
  public int mpsmin() {
    return (int) NvmeRegisters.CAP_MPSMIN.get(value);
  }

  /** MPSMAX: maximum memory page size is {@code 2^(12 + mpsmax)} bytes. */
  public int mpsmax() {
    return (int) NvmeRegisters.CAP_MPSMAX.get(value);
  }

  /** The smallest memory page size the controller supports, in bytes. */
  public long minPageSize() {
    return 1L << (12 + mpsmin());
  }

  /** The largest memory page size the controller supports, in bytes. */
  public long maxPageSize() {
    return 1L << (12 + mpsmax());
  }

  /** PMRS: persistent memory region supported. */
  public boolean pmrs() {
    return NvmeRegisters.CAP_PMRS.isSet(value);
  }

  /** CMBS: controller memory buffer supported. */
  public boolean cmbs() {
    return NvmeRegisters.CAP_CMBS.isSet(value);
  }
}
