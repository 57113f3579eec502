package dev.upcie.sim.nvme;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/**
 * The Identify data structures QEMU 7.2's controller returns ({@code nvme_init_ctrl}, {@code
 * nvme_ns_init}), built once from the options: 4096 little-endian bytes each. The offsets are the
 * NVMe base specification's (figures 247 and 249).
 */
final class IdentifyData {
  /** The firmware revision QEMU reports: its version, {@code QEMU_VERSION} of Debian's 7.2. */
  static final String QEMU_FIRMWARE = "7.2.22";

  /** The model number QEMU reports. */
  static final String QEMU_MODEL = "QEMU NVMe Ctrl";

  /** Composite temperature QEMU reports, in kelvins (50 degrees C). */
  static final int TEMPERATURE = 0x143;

  /** Warning composite temperature threshold, in kelvins (70 degrees C). */
  static final int TEMPERATURE_WARNING = 0x157;

  /** Critical composite temperature threshold, in kelvins (100 degrees C). */
  static final int TEMPERATURE_CRITICAL = 0x175;

  /** QEMU's limit on namespace identifiers (Identify Controller NN). */
  static final int MAX_NAMESPACES = 256;

  /** The most bytes one request reaches QEMU's block layer with: {@code BDRV_REQUEST_MAX_BYTES}. */
  static final long BLOCK_REQUEST_MAX_BYTES = 0x7fff_fe00L;

  static final int SIZE = 4096;

  private IdentifyData() {}

  /** Identify Controller (CNS 01h) for a controller at PCI {@code vendor} with these options. */
  static byte[] controller(NvmeOptions options, int vendor, int subsystemVendor) {
    ByteBuffer id = buffer();
    id.putShort(0, (short) vendor);
    id.putShort(2, (short) subsystemVendor);
    ascii(id, 4, 20, options.serial());
    ascii(id, 24, 40, QEMU_MODEL);
    ascii(id, 64, 8, QEMU_FIRMWARE);
    id.put(72, (byte) 6); // RAB
    id.put(73, (byte) 0x00); // IEEE OUI 52:54:00, least significant byte first
    id.put(74, (byte) 0x54);
    id.put(75, (byte) 0x52);
    id.put(77, (byte) options.mdts());
    id.putInt(80, NvmeModel.QEMU_VS);
    id.putInt(92, 1 << 8); // OAES: namespace attribute notices
    id.putInt(96, 1 << 15); // CTRATT: extended LBA formats
    id.put(111, (byte) 1); // CNTRLTYPE: I/O controller
    id.putShort(256, (short) (1 << 1 | 1 << 3 | 1 << 8)); // OACS: format, ns management, dbbuf
    id.put(258, (byte) 3); // ACL
    id.put(259, (byte) options.aerl());
    id.put(260, (byte) (1 << 1 | 1)); // FRMW: one slot, slot 1 read-only
    id.put(261, (byte) 0x7); // LPA: per-namespace SMART, command effects, extended data
    id.putShort(266, (short) TEMPERATURE_WARNING);
    id.putShort(268, (short) TEMPERATURE_CRITICAL);
    id.put(512, (byte) 0x66); // SQES
    id.put(513, (byte) 0x44); // CQES
    id.putInt(516, MAX_NAMESPACES);
    // ONCS: compare, dataset management, write zeroes, save/select in features, timestamp, copy
    id.putShort(520, (short) (1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 6 | 1 << 8));
    id.put(525, (byte) (3 << 1 | 1)); // VWC: present, flush with broadcast NSID supported
    id.putShort(534, (short) 0x3); // OCFS: copy formats 0 and 1
    id.putInt(536, 1); // SGLS: supported, no alignment requirement
    ascii0(id, 768, 256, "nqn.2019-08.org.qemu:" + options.serial());
    id.putShort(2048, (short) 0x9c4); // power state 0: max power 25 W
    id.putInt(2048 + 4, 0x10); // entry latency
    id.putInt(2048 + 8, 0x4); // exit latency
    return id.array();
  }

  /** Identify Namespace (CNS 00h) for a namespace of {@code options}. */
  static byte[] namespace(NamespaceOptions options) {
    ByteBuffer id = buffer();
    long blocks = options.blocks();
    id.putLong(0, blocks); // NSZE
    id.putLong(8, blocks); // NCAP: no thin provisioning
    id.putLong(16, blocks); // NUSE
    id.put(24, (byte) (0x4 | 0x10)); // NSFEAT: DULBE, I/O optimization fields
    id.put(25, (byte) 7); // NLBAF, 0-based: the 8 formats below
    id.put(26, (byte) formatIndex(options.blockSize())); // FLBAS
    id.put(27, (byte) 0x3); // MC: extended and separate metadata
    id.put(28, (byte) 0x1f); // DPC
    id.put(33, (byte) 0x1); // DLFEAT: deallocated blocks read as zeros
    // NPDG and NPDA: the discard granularity, max(block size, 4 KiB), in blocks, 0-based.
    int granularity = Math.max(options.blockSize(), 4096) / options.blockSize() - 1;
    id.putShort(68, (short) granularity);
    id.putShort(70, (short) granularity);
    id.putShort(74, (short) 128); // MSSRL
    id.putInt(76, 128); // MCL
    id.put(80, (byte) 127); // MSRC
    int[][] formats = {{9, 0}, {9, 8}, {9, 16}, {9, 64}, {12, 0}, {12, 8}, {12, 16}, {12, 64}};
    for (int i = 0; i < formats.length; i++) {
      id.putInt(128 + 4 * i, formats[i][1] | formats[i][0] << 16); // MS, LBADS
    }
    return id.array();
  }

  /**
   * Namespace Identification Descriptor list (CNS 03h): QEMU 7.2 gives no UUID or EUI-64 unless
   * configured, so only the command set identifier (NVM).
   */
  static byte[] descriptors() {
    byte[] list = new byte[SIZE];
    list[0] = 4; // NIDT: command set identifier
    list[1] = 1; // NIDL
    return list;
  }

  /** I/O Command Set specific Identify Controller for the NVM command set (CNS 06h, CSI 0). */
  static byte[] nvmController(long dmrsl) {
    ByteBuffer id = buffer();
    id.put(0, (byte) 7); // VSL: QEMU's vsl default
    id.putInt(4, (int) dmrsl);
    return id.array();
  }

  /** Primary Controller Capabilities (CNS 14h) of a controller without SR-IOV. */
  static byte[] primaryControllerCapabilities(NvmeOptions options) {
    ByteBuffer id = buffer();
    id.put(4, (byte) 0x3); // CRT: VQ and VI resources
    id.putShort(42, (short) (1 + options.maxIoQueuePairs())); // VQPRT
    id.putShort(46, (short) 1); // VQGRAN
    id.putShort(74, (short) options.msixQueueSize()); // VIPRT
    id.putShort(78, (short) 1); // VIGRAN
    return id.array();
  }

  /** The LBA format index QEMU selects for a block size: 0 for 512 bytes, 4 for 4 KiB. */
  static int formatIndex(int blockSize) {
    return blockSize == 512 ? 0 : 4;
  }

  private static ByteBuffer buffer() {
    return ByteBuffer.allocate(SIZE).order(ByteOrder.LITTLE_ENDIAN);
  }

  // Space-padded, as QEMU's strpadcpy.
  private static void ascii(ByteBuffer id, int offset, int length, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < length; i++) {
      id.put(offset + i, i < bytes.length ? bytes[i] : (byte) ' ');
    }
  }

  // NUL-padded, as snprintf.
  private static void ascii0(ByteBuffer id, int offset, int length, String text) {
    byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i < Math.min(length - 1, bytes.length); i++) {
      id.put(offset + i, bytes[i]);
    }
  }
}
