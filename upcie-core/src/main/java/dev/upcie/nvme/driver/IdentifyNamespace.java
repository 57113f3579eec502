package dev.upcie.nvme.driver;

import static dev.upcie.nvme.driver.Bytes.hex;
import static dev.upcie.nvme.driver.Bytes.u128;
import static dev.upcie.nvme.driver.Bytes.u16;
import static dev.upcie.nvme.driver.Bytes.u32;
import static dev.upcie.nvme.driver.Bytes.u64;
import static dev.upcie.nvme.driver.Bytes.u8;

import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The Identify Namespace data structure of the NVM command set (CNS 00h), decoded. Each component's
 * javadoc gives the specification's abbreviation, the key {@code nvme id-ns -o json} prints it
 * under.
 *
 * @param nsid the namespace id it describes
 * @param size NSZE, blocks
 * @param capacity NCAP, blocks
 * @param utilization NUSE, blocks
 * @param features NSFEAT
 * @param lbaFormatCount NLBAF, 0-based
 * @param formattedLbaSize FLBAS: the format in use (bits 3:0, and 6:5 above 16 formats)
 * @param metadataCapabilities MC
 * @param protectionCapabilities DPC
 * @param protectionSettings DPS
 * @param multipathCapabilities NMIC
 * @param reservationCapabilities RESCAP
 * @param formatProgress FPI
 * @param deallocateFeatures DLFEAT
 * @param atomicWriteUnitNormal NAWUN
 * @param atomicWriteUnitPowerFail NAWUPF
 * @param atomicCompareWriteUnit NACWU
 * @param atomicBoundarySizeNormal NABSN
 * @param atomicBoundaryOffset NABO
 * @param atomicBoundarySizePowerFail NABSPF
 * @param optimalIoBoundary NOIOB
 * @param nvmCapacity NVMCAP, bytes
 * @param maxSingleSourceRangeLength MSSRL
 * @param maxCopyLength MCL
 * @param maxSourceRangeCount MSRC
 * @param anaGroupId ANAGRPID
 * @param attributes NSATTR
 * @param nvmSetId NVMSETID
 * @param enduranceGroupId ENDGID
 * @param nguid NGUID, as hexadecimal
 * @param eui64 EUI64, as hexadecimal
 * @param lbaFormats LBAF0 to LBAF{NLBAF}
 */
public record IdentifyNamespace(
    int nsid,
    long size,
    long capacity,
    long utilization,
    int features,
    int lbaFormatCount,
    int formattedLbaSize,
    int metadataCapabilities,
    int protectionCapabilities,
    int protectionSettings,
    int multipathCapabilities,
    int reservationCapabilities,
    int formatProgress,
    int deallocateFeatures,
    int atomicWriteUnitNormal,
    int atomicWriteUnitPowerFail,
    int atomicCompareWriteUnit,
    int atomicBoundarySizeNormal,
    int atomicBoundaryOffset,
    int atomicBoundarySizePowerFail,
    int optimalIoBoundary,
    BigInteger nvmCapacity,
    int maxSingleSourceRangeLength,
    long maxCopyLength,
    int maxSourceRangeCount,
    long anaGroupId,
    int attributes,
    int nvmSetId,
    int enduranceGroupId,
    String nguid,
    String eui64,
    List<LbaFormat> lbaFormats) {

  /** Copies the list. */
  public IdentifyNamespace {
    lbaFormats = List.copyOf(lbaFormats);
  }

  /** Decodes the 4096-byte structure of namespace {@code nsid}. */
  static IdentifyNamespace decode(int nsid, MemorySegment d) {
    int count = u8(d, 25);
    List<LbaFormat> formats = new ArrayList<>(count + 1);
    for (int i = 0; i <= count && i < 64; i++) {
      long at = 128 + 4L * i;
      formats.add(new LbaFormat(u16(d, at), u8(d, at + 2), u8(d, at + 3) & 0x3));
    }
    return new IdentifyNamespace(
        nsid,
        u64(d, 0),
        u64(d, 8),
        u64(d, 16),
        u8(d, 24),
        count,
        u8(d, 26),
        u8(d, 27),
        u8(d, 28),
        u8(d, 29),
        u8(d, 30),
        u8(d, 31),
        u8(d, 32),
        u8(d, 33),
        u16(d, 34),
        u16(d, 36),
        u16(d, 38),
        u16(d, 40),
        u16(d, 42),
        u16(d, 44),
        u16(d, 46),
        u128(d, 48),
        u16(d, 74),
        u32(d, 76),
        u8(d, 80),
        u32(d, 92),
        u8(d, 99),
        u16(d, 100),
        u16(d, 102),
        hex(d, 104, 16),
        hex(d, 120, 8),
        formats);
  }

  /** The index of the LBA format in use. */
  public int formatIndex() {
    return (formattedLbaSize & 0xf) | ((formattedLbaSize >>> 5) & 0x3) << 4;
  }

  /** The LBA format in use. */
  public LbaFormat format() {
    return lbaFormats.get(formatIndex());
  }

  /** The block size in bytes of the format in use. */
  public long blockSize() {
    return format().blockSize();
  }

  /** True if the namespace is active: an inactive one identifies as all zeroes. */
  public boolean active() {
    return size != 0;
  }
}
