package dev.upcie.pci;

import dev.upcie.register.Field;
import dev.upcie.register.Register;

/**
 * The type 0 configuration header (PCI Local Bus 3.0, section 6.1) and the capability fields a
 * driver touches, as {@link Register} and {@link Field} values.
 */
public final class PciConfigRegisters {
  /** Vendor ID. */
  public static final Register VENDOR_ID = new Register("VENDOR_ID", 0x00, 2);

  /** Device ID. */
  public static final Register DEVICE_ID = new Register("DEVICE_ID", 0x02, 2);

  /** Command. */
  public static final Register COMMAND = new Register("COMMAND", 0x04, 2);

  /** Status. */
  public static final Register STATUS = new Register("STATUS", 0x06, 2);

  /** Revision ID. */
  public static final Register REVISION_ID = new Register("REVISION_ID", 0x08, 1);

  /** Class code: programming interface, subclass, base class (24 bits in the upper bytes). */
  public static final Register CLASS_REVISION = new Register("CLASS_REVISION", 0x08, 4);

  /** Header type. */
  public static final Register HEADER_TYPE = new Register("HEADER_TYPE", 0x0e, 1);

  /** Base address register 0; BAR {@code i} is at {@code 0x10 + 4 * i}. */
  public static final Register BAR0 = new Register("BAR0", 0x10, 4);

  /** Subsystem vendor ID. */
  public static final Register SUBSYSTEM_VENDOR_ID = new Register("SUBSYSTEM_VENDOR_ID", 0x2c, 2);

  /** Subsystem ID. */
  public static final Register SUBSYSTEM_ID = new Register("SUBSYSTEM_ID", 0x2e, 2);

  /** Capabilities pointer: the first standard capability. */
  public static final Register CAPABILITIES_POINTER = new Register("CAPABILITIES_POINTER", 0x34, 1);

  /** Interrupt line (the platform's, for INTx). */
  public static final Register INTERRUPT_LINE = new Register("INTERRUPT_LINE", 0x3c, 1);

  /** Interrupt pin: 0 none, 1 to 4 INTA# to INTD#. */
  public static final Register INTERRUPT_PIN = new Register("INTERRUPT_PIN", 0x3d, 1);

  /** COMMAND: I/O space decoding. */
  public static final Field COMMAND_IO = COMMAND.field("IO", 0, 1);

  /** COMMAND: memory space decoding: BAR accesses reach the device. */
  public static final Field COMMAND_MEMORY = COMMAND.field("MEMORY", 1, 1);

  /** COMMAND: bus master: the device may issue DMA (and MSI, which is a memory write). */
  public static final Field COMMAND_BUS_MASTER = COMMAND.field("BUS_MASTER", 2, 1);

  /** COMMAND: INTx emulation disabled. */
  public static final Field COMMAND_INTX_DISABLE = COMMAND.field("INTX_DISABLE", 10, 1);

  /** STATUS: INTx asserted. */
  public static final Field STATUS_INTERRUPT = STATUS.field("INTERRUPT", 3, 1);

  /** STATUS: the function has a capability list. */
  public static final Field STATUS_CAPABILITIES = STATUS.field("CAPABILITIES", 4, 1);

  /** The size of a conventional PCI configuration space. */
  public static final int CONVENTIONAL_SIZE = 256;

  /** The size of a PCI Express configuration space. */
  public static final int EXPRESS_SIZE = 4096;

  /** Where the extended capabilities start in a PCI Express configuration space. */
  public static final int EXTENDED_CAPABILITIES = 0x100;

  private PciConfigRegisters() {}
}
