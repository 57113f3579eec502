package dev.upcie.pci;

/**
 * One entry of a function's capability list in configuration space.
 *
 * @param id the capability id: {@link #MSI}, {@link #MSIX}, {@link #PCI_EXPRESS}... for standard
 *     capabilities; {@link #EXT_AER}... for extended ones
 * @param offset where its header is in configuration space
 * @param extended true for a PCI Express extended capability (at 0x100 or above)
 * @param version the extended capability's version; 0 for standard capabilities
 */
public record PciCapability(int id, int offset, boolean extended, int version) {
  /** Power Management. */
  public static final int POWER_MANAGEMENT = 0x01;

  /** Message Signalled Interrupts. */
  public static final int MSI = 0x05;

  /** Vendor specific. */
  public static final int VENDOR_SPECIFIC = 0x09;

  /** PCI Express. */
  public static final int PCI_EXPRESS = 0x10;

  /** MSI-X. */
  public static final int MSIX = 0x11;

  /** Extended: Advanced Error Reporting. */
  public static final int EXT_AER = 0x0001;

  /** Extended: Alternative Routing-ID Interpretation. */
  public static final int EXT_ARI = 0x000e;

  /** Extended: Single Root I/O Virtualization. */
  public static final int EXT_SRIOV = 0x0010;

  /** The capability's name, such as {@code MSI-X} or {@code AER}, or its id in hexadecimal. */
  public String name() {
    return extended
        ? switch (id) {
          case EXT_AER -> "AER";
          case 0x0002 -> "VC";
          case 0x0003 -> "DSN";
          case EXT_ARI -> "ARI";
          case EXT_SRIOV -> "SR-IOV";
          case 0x000d -> "ACS";
          case 0x0018 -> "LTR";
          case 0x001e -> "L1SS";
          default -> String.format("ext 0x%04x", id);
        }
        : switch (id) {
          case POWER_MANAGEMENT -> "PM";
          case MSI -> "MSI";
          case VENDOR_SPECIFIC -> "Vendor";
          case PCI_EXPRESS -> "PCIe";
          case MSIX -> "MSI-X";
          default -> String.format("0x%02x", id);
        };
  }

  /** {@code MSI-X@0x40}. */
  @Override
  public String toString() {
    return name() + "@0x" + Integer.toHexString(offset);
  }
}
