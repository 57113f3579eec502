package dev.upcie.nvme.driver;

import static dev.upcie.nvme.driver.Bytes.ascii;
import static dev.upcie.nvme.driver.Bytes.u128;
import static dev.upcie.nvme.driver.Bytes.u16;
import static dev.upcie.nvme.driver.Bytes.u24;
import static dev.upcie.nvme.driver.Bytes.u32;
import static dev.upcie.nvme.driver.Bytes.u8;

import dev.upcie.nvme.NvmeVersion;
import java.lang.foreign.MemorySegment;
import java.math.BigInteger;

/**
 * The Identify Controller data structure (CNS 01h), decoded. Each component's javadoc gives the
 * specification's abbreviation, which is also the key {@code nvme id-ctrl -o json} prints it under.
 * Strings are trimmed of their padding; numbers are unsigned.
 *
 * @param vendorId VID: the PCI vendor id
 * @param subsystemVendorId SSVID: the PCI subsystem vendor id
 * @param serialNumber SN
 * @param modelNumber MN
 * @param firmwareRevision FR
 * @param recommendedArbitrationBurst RAB
 * @param ieeeOui IEEE: the organisation's OUI, as nvme-cli prints it (byte 2 most significant)
 * @param multipathCapabilities CMIC
 * @param maxDataTransferSize MDTS: a power of two in units of the minimum page size; 0 = no limit
 * @param controllerId CNTLID
 * @param version VER, as in the VS register
 * @param rtd3ResumeLatency RTD3R, microseconds
 * @param rtd3EntryLatency RTD3E, microseconds
 * @param asyncEventsSupported OAES
 * @param controllerAttributes CTRATT
 * @param controllerType CNTRLTYPE: 1 I/O, 2 discovery, 3 administrative (0 before NVMe 1.4)
 * @param optionalAdminCommands OACS
 * @param abortCommandLimit ACL, 0-based
 * @param asyncEventRequestLimit AERL, 0-based
 * @param firmwareUpdates FRMW
 * @param logPageAttributes LPA
 * @param errorLogEntries ELPE, 0-based
 * @param powerStates NPSS, 0-based
 * @param warningTemperature WCTEMP, kelvin
 * @param criticalTemperature CCTEMP, kelvin
 * @param totalCapacity TNVMCAP, bytes
 * @param unallocatedCapacity UNVMCAP, bytes
 * @param submissionEntrySizes SQES: maximum (bits 7:4) and required (3:0), as powers of two
 * @param completionEntrySizes CQES: the same for completions
 * @param maxOutstandingCommands MAXCMD
 * @param namespaceCount NN: the largest namespace id
 * @param optionalNvmCommands ONCS
 * @param fusedOperations FUSES
 * @param formatAttributes FNA
 * @param volatileWriteCache VWC
 * @param atomicWriteUnitNormal AWUN, 0-based blocks
 * @param atomicWriteUnitPowerFail AWUPF, 0-based blocks
 * @param atomicCompareWriteUnit ACWU, 0-based blocks
 * @param sglSupport SGLS
 * @param maxAllowedNamespaces MNAN
 * @param subsystemNqn SUBNQN
 */
public record IdentifyController(
    int vendorId,
    int subsystemVendorId,
    String serialNumber,
    String modelNumber,
    String firmwareRevision,
    int recommendedArbitrationBurst,
    int ieeeOui,
    int multipathCapabilities,
    int maxDataTransferSize,
    int controllerId,
    NvmeVersion version,
    long rtd3ResumeLatency,
    long rtd3EntryLatency,
    long asyncEventsSupported,
    long controllerAttributes,
    int controllerType,
    int optionalAdminCommands,
    int abortCommandLimit,
    int asyncEventRequestLimit,
    int firmwareUpdates,
    int logPageAttributes,
    int errorLogEntries,
    int powerStates,
    int warningTemperature,
    int criticalTemperature,
    BigInteger totalCapacity,
    BigInteger unallocatedCapacity,
    int submissionEntrySizes,
    int completionEntrySizes,
    int maxOutstandingCommands,
    long namespaceCount,
    int optionalNvmCommands,
    int fusedOperations,
    int formatAttributes,
    int volatileWriteCache,
    int atomicWriteUnitNormal,
    int atomicWriteUnitPowerFail,
    int atomicCompareWriteUnit,
    long sglSupport,
    long maxAllowedNamespaces,
    String subsystemNqn) {

  /** ONCS bit 2: Dataset Management (deallocate). */
  public static final int ONCS_DATASET_MANAGEMENT = 1 << 2;

  /** ONCS bit 3: Write Zeroes. */
  public static final int ONCS_WRITE_ZEROES = 1 << 3;

  /** Decodes the 4096-byte structure. */
  static IdentifyController decode(MemorySegment d) {
    return new IdentifyController(
        u16(d, 0),
        u16(d, 2),
        ascii(d, 4, 20),
        ascii(d, 24, 40),
        ascii(d, 64, 8),
        u8(d, 72),
        u24(d, 73),
        u8(d, 76),
        u8(d, 77),
        u16(d, 78),
        new NvmeVersion((int) u32(d, 80)),
        u32(d, 84),
        u32(d, 88),
        u32(d, 92),
        u32(d, 96),
        u8(d, 111),
        u16(d, 256),
        u8(d, 258),
        u8(d, 259),
        u8(d, 260),
        u8(d, 261),
        u8(d, 262),
        u8(d, 263),
        u16(d, 266),
        u16(d, 268),
        u128(d, 280),
        u128(d, 296),
        u8(d, 512),
        u8(d, 513),
        u16(d, 514),
        u32(d, 516),
        u16(d, 520),
        u16(d, 522),
        u8(d, 524),
        u8(d, 525),
        u16(d, 526),
        u16(d, 528),
        u16(d, 532),
        u32(d, 536),
        u32(d, 540),
        ascii(d, 768, 256));
  }

  /**
   * The largest transfer one command may move, in bytes, given the controller's minimum page size
   * (CAP.MPSMIN); {@code Long.MAX_VALUE} if MDTS sets no limit.
   */
  public long maxTransferBytes(long minPageSize) {
    return maxDataTransferSize == 0 ? Long.MAX_VALUE : minPageSize << maxDataTransferSize;
  }

  /** True if the controller supports Write Zeroes (ONCS bit 3). */
  public boolean supportsWriteZeroes() {
    return (optionalNvmCommands & ONCS_WRITE_ZEROES) != 0;
  }

  /** True if the controller supports Dataset Management (ONCS bit 2), so deallocation. */
  public boolean supportsDatasetManagement() {
    return (optionalNvmCommands & ONCS_DATASET_MANAGEMENT) != 0;
  }
}
