package dev.upcie.sim.sysfs;

import java.util.Objects;

/**
 * A standard capability in a simulated function's configuration space: its id, where it sits, and
 * the bytes after its two-byte header (the next pointer is filled in when the list is laid out).
 *
 * @param offset where the capability starts, 0x40 to 0xfc, 4-byte aligned
 * @param id the capability id, such as {@link dev.upcie.pci.PciCapability#MSIX}
 * @param body the capability's bytes from offset 2 on
 */
public record SimCapability(int offset, int id, byte[] body) {

  /** Checks the placement. */
  public SimCapability {
    Objects.requireNonNull(body, "body");
    if (offset < 0x40 || offset > 0xfc || (offset & 3) != 0 || offset + 2 + body.length > 0x100) {
      throw new IllegalArgumentException(
          String.format(
              "a capability of %d bytes cannot sit at 0x%x: standard capabilities lie 4-byte"
                  + " aligned between 0x40 and 0x100",
              body.length + 2, offset));
    }
    body = body.clone();
  }

  /**
   * An MSI capability at {@code offset} offering {@code vectors} (1, 2, 4, ... 32), as {@code
   * msi_init} lays it out: message control, address (64-bit if asked), data, and the mask and
   * pending words if per-vector masking is asked.
   */
  public static SimCapability msi(int offset, int vectors, boolean address64, boolean masking) {
    if (vectors < 1 || vectors > 32 || Integer.bitCount(vectors) != 1) {
      throw new IllegalArgumentException("MSI offers 1, 2, 4, 8, 16 or 32 vectors, not " + vectors);
    }
    int control =
        (Integer.numberOfTrailingZeros(vectors) << 1)
            | (address64 ? 0x80 : 0)
            | (masking ? 0x100 : 0);
    int length = 2 + 4 + (address64 ? 4 : 0) + 2 + (masking ? 2 + 8 : 0);
    byte[] body = new byte[length];
    body[0] = (byte) control;
    body[1] = (byte) (control >> 8);
    return new SimCapability(offset, dev.upcie.pci.PciCapability.MSI, body);
  }

  /**
   * An MSI-X capability at {@code offset} with a table of {@code tableSize} vectors at {@code
   * tableOffset} of BAR {@code tableBar} and the pending-bit array at {@code pbaOffset} of BAR
   * {@code pbaBar}.
   */
  public static SimCapability msix(
      int offset, int tableSize, int tableBar, int tableOffset, int pbaBar, int pbaOffset) {
    if (tableSize < 1 || tableSize > 2048) {
      throw new IllegalArgumentException("MSI-X offers 1 to 2048 vectors, not " + tableSize);
    }
    if (((tableOffset | pbaOffset) & 7) != 0) {
      throw new IllegalArgumentException("MSI-X table and PBA offsets are 8-byte aligned");
    }
    java.nio.ByteBuffer body =
        java.nio.ByteBuffer.allocate(10).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    body.putShort((short) (tableSize - 1));
    body.putInt(tableOffset | tableBar);
    body.putInt(pbaOffset | pbaBar);
    return new SimCapability(offset, dev.upcie.pci.PciCapability.MSIX, body.array());
  }

  /** The body, copied. */
  @Override
  public byte[] body() {
    return body.clone();
  }
}
