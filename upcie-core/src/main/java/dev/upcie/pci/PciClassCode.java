package dev.upcie.pci;

import java.util.Map;

/**
 * The 24-bit class code of a PCI function: base class, subclass and programming interface, as in
 * {@code 0x010802} (mass storage, non-volatile memory, NVMe).
 *
 * @param value the class code, {@code 0} to {@code 0xffffff}
 */
public record PciClassCode(int value) {
  /** NVMe: mass storage, non-volatile memory controller, NVM Express interface. */
  public static final PciClassCode NVME = new PciClassCode(0x010802);

  private static final Map<Integer, String> BASE_NAMES =
      Map.ofEntries(
          Map.entry(0x00, "Unclassified device"),
          Map.entry(0x01, "Mass storage controller"),
          Map.entry(0x02, "Network controller"),
          Map.entry(0x03, "Display controller"),
          Map.entry(0x04, "Multimedia controller"),
          Map.entry(0x05, "Memory controller"),
          Map.entry(0x06, "Bridge"),
          Map.entry(0x07, "Communication controller"),
          Map.entry(0x08, "System peripheral"),
          Map.entry(0x09, "Input device controller"),
          Map.entry(0x0a, "Docking station"),
          Map.entry(0x0b, "Processor"),
          Map.entry(0x0c, "Serial bus controller"),
          Map.entry(0x0d, "Wireless controller"),
          Map.entry(0x0e, "Intelligent controller"),
          Map.entry(0x0f, "Satellite communications controller"),
          Map.entry(0x10, "Encryption controller"),
          Map.entry(0x11, "Signal processing controller"),
          Map.entry(0x12, "Processing accelerator"),
          Map.entry(0x13, "Non-essential instrumentation"),
          Map.entry(0x40, "Coprocessor"),
          Map.entry(0xff, "Unassigned class"));

  private static final Map<Integer, String> SUBCLASS_NAMES =
      Map.ofEntries(
          Map.entry(0x0100, "SCSI storage controller"),
          Map.entry(0x0101, "IDE interface"),
          Map.entry(0x0104, "RAID bus controller"),
          Map.entry(0x0106, "SATA controller"),
          Map.entry(0x0107, "Serial Attached SCSI controller"),
          Map.entry(0x0108, "Non-Volatile memory controller"),
          Map.entry(0x0200, "Ethernet controller"),
          Map.entry(0x0280, "Network controller"),
          Map.entry(0x0300, "VGA compatible controller"),
          Map.entry(0x0302, "3D controller"),
          Map.entry(0x0403, "Audio device"),
          Map.entry(0x0600, "Host bridge"),
          Map.entry(0x0601, "ISA bridge"),
          Map.entry(0x0604, "PCI bridge"),
          Map.entry(0x0700, "Serial controller"),
          Map.entry(0x0880, "System peripheral"),
          Map.entry(0x0c03, "USB controller"),
          Map.entry(0x0c05, "SMBus"),
          Map.entry(0x1200, "Processing accelerator"));

  /** Checks that the value fits in 24 bits. */
  public PciClassCode {
    if (value < 0 || value > 0xffffff) {
      throw new IllegalArgumentException(
          "PCI class codes are 24-bit: 0x" + Integer.toHexString(value));
    }
  }

  /** The base class, such as {@code 0x01} for mass storage. */
  public int baseClass() {
    return value >>> 16;
  }

  /** The subclass, such as {@code 0x08} for non-volatile memory. */
  public int subClass() {
    return (value >>> 8) & 0xff;
  }

  /** The programming interface, such as {@code 0x02} for NVM Express. */
  public int progIf() {
    return value & 0xff;
  }

  /** A short name as lspci would print it, such as {@code Non-Volatile memory controller}. */
  public String describe() {
    if (value == NVME.value) {
      return "NVMe controller";
    }
    String sub = SUBCLASS_NAMES.get(value >>> 8);
    if (sub != null) {
      return sub;
    }
    return BASE_NAMES.getOrDefault(baseClass(), "Unknown class");
  }

  /** {@code 0x010802}, as sysfs writes it. */
  @Override
  public String toString() {
    return String.format("0x%06x", value);
  }
}
