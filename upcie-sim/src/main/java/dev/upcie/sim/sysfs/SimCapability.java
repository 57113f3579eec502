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

  /** The body, copied. */
  @Override
  public byte[] body() {
    return body.clone();
  }
}
