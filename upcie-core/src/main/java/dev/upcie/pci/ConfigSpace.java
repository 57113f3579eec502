package dev.upcie.pci;

import dev.upcie.register.Register;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A function's configuration space: 8, 16 and 32-bit reads and writes, the capability lists, and
 * the command register helpers a driver needs.
 *
 * <p>On VFIO it is the device's config region, on UIO the sysfs {@code config} file, on the
 * simulator the model's own bytes. The kernel may virtualize parts of it (VFIO hides BARs it has
 * not mapped and owns the MSI and MSI-X control words): program interrupts through {@link
 * dev.upcie.interrupt.Interrupts}, never here.
 *
 * <pre>{@code
 * ConfigSpace config = device.config();
 * config.enableBusMaster();                       // before the device may DMA
 * Optional<PciCapability> msix = config.capability(PciCapability.MSIX);
 * int tableSize = (config.read16(msix.get().offset() + 2) & 0x7ff) + 1;
 * }</pre>
 *
 * <p>Accesses are little-endian, naturally aligned and bounds-checked: an access outside the space
 * throws {@link IndexOutOfBoundsException}, a misaligned one {@link IllegalArgumentException}.
 * After the device is closed every access throws {@link IllegalStateException}.
 */
public interface ConfigSpace {

  /** The size in bytes: 256 for a conventional function, 4096 for a PCI Express one. */
  int size();

  /** Reads the byte at {@code offset}, 0 to 255. */
  int read8(int offset);

  /** Reads the 16-bit word at {@code offset}, 0 to 65535. */
  int read16(int offset);

  /** Reads the 32-bit word at {@code offset}. */
  int read32(int offset);

  /** Writes the low byte of {@code value} at {@code offset}. */
  void write8(int offset, int value);

  /** Writes the low 16 bits of {@code value} at {@code offset}. */
  void write16(int offset, int value);

  /** Writes {@code value} at {@code offset}. */
  void write32(int offset, int value);

  /** Reads {@code register} at its width, as an unsigned value. */
  default long read(Register register) {
    int offset = Math.toIntExact(register.offset());
    return switch (register.width()) {
      case 1 -> read8(offset);
      case 2 -> read16(offset);
      case 4 -> Integer.toUnsignedLong(read32(offset));
      default ->
          throw new IllegalArgumentException(register + ": config space has no 64-bit accesses");
    };
  }

  /** Writes {@code register} at its width. */
  default void write(Register register, long value) {
    if ((value & ~register.mask()) != 0) {
      throw new IllegalArgumentException(
          "0x" + Long.toHexString(value) + " does not fit in " + register);
    }
    int offset = Math.toIntExact(register.offset());
    switch (register.width()) {
      case 1 -> write8(offset, (int) value);
      case 2 -> write16(offset, (int) value);
      case 4 -> write32(offset, (int) value);
      default ->
          throw new IllegalArgumentException(register + ": config space has no 64-bit accesses");
    }
  }

  /**
   * The standard capabilities, in list order, walked from the capabilities pointer. A list that
   * loops or points outside the header ends the walk there: a broken device cannot hang a driver.
   */
  default List<PciCapability> capabilities() {
    List<PciCapability> found = new ArrayList<>();
    if (!PciConfigRegisters.STATUS_CAPABILITIES.isSet(read(PciConfigRegisters.STATUS))) {
      return found;
    }
    int offset = read8((int) PciConfigRegisters.CAPABILITIES_POINTER.offset()) & 0xfc;
    // At most 48 capabilities fit in the 192 bytes after the header.
    for (int seen = 0; offset >= 0x40 && offset < 0x100 && seen < 48; seen++) {
      int header = read16(offset);
      found.add(new PciCapability(header & 0xff, offset, false, 0));
      offset = (header >>> 8) & 0xfc;
    }
    return found;
  }

  /**
   * The PCI Express extended capabilities, in list order from offset 0x100; empty for a
   * conventional function. A loop or an empty header ends the walk.
   */
  default List<PciCapability> extendedCapabilities() {
    List<PciCapability> found = new ArrayList<>();
    if (size() <= PciConfigRegisters.EXTENDED_CAPABILITIES) {
      return found;
    }
    int offset = PciConfigRegisters.EXTENDED_CAPABILITIES;
    // At most (4096 - 256) / 4 headers fit.
    for (int seen = 0; offset >= 0x100 && offset < size() && seen < 960; seen++) {
      int header = read32(offset);
      if (header == 0 || header == -1) {
        break;
      }
      found.add(new PciCapability(header & 0xffff, offset, true, (header >>> 16) & 0xf));
      offset = (header >>> 20) & 0xffc;
    }
    return found;
  }

  /** The first standard capability with {@code id}, such as {@link PciCapability#MSIX}. */
  default Optional<PciCapability> capability(int id) {
    return capabilities().stream().filter(c -> c.id() == id).findFirst();
  }

  /** The first extended capability with {@code id}, such as {@link PciCapability#EXT_AER}. */
  default Optional<PciCapability> extendedCapability(int id) {
    return extendedCapabilities().stream().filter(c -> c.id() == id).findFirst();
  }

  /** True if the function may master the bus (issue DMA and MSIs). */
  default boolean isBusMaster() {
    return PciConfigRegisters.COMMAND_BUS_MASTER.isSet(read(PciConfigRegisters.COMMAND));
  }

  /** Lets the function master the bus: needed before it may DMA or signal an MSI. */
  default void enableBusMaster() {
    setCommand(PciConfigRegisters.COMMAND_BUS_MASTER.mask(), true);
  }

  /** Stops the function from mastering the bus: no more DMA. */
  default void disableBusMaster() {
    setCommand(PciConfigRegisters.COMMAND_BUS_MASTER.mask(), false);
  }

  /** True if memory space decoding is on: BAR accesses reach the function. */
  default boolean isMemoryEnabled() {
    return PciConfigRegisters.COMMAND_MEMORY.isSet(read(PciConfigRegisters.COMMAND));
  }

  /** Turns memory space decoding on. */
  default void enableMemory() {
    setCommand(PciConfigRegisters.COMMAND_MEMORY.mask(), true);
  }

  /** Sets or clears {@code bits} of the command register, leaving the others as they are. */
  private void setCommand(long bits, boolean on) {
    long command = read(PciConfigRegisters.COMMAND);
    long updated = on ? command | bits : command & ~bits;
    if (updated != command) {
      write(PciConfigRegisters.COMMAND, updated);
    }
  }

  /**
   * Checks a config access of {@code width} bytes at {@code offset} against a space of {@code size}
   * bytes: in bounds and naturally aligned. For implementations.
   *
   * @throws IndexOutOfBoundsException if the access leaves the space
   * @throws IllegalArgumentException if the offset is not a multiple of the width
   */
  static void checkAccess(String name, int size, int offset, int width) {
    if (offset < 0 || offset > size - width) {
      throw new IndexOutOfBoundsException(
          String.format(
              "%d-bit config access at 0x%x is outside %s (0x%x bytes)",
              width * 8, offset, name, size));
    }
    if ((offset & (width - 1)) != 0) {
      throw new IllegalArgumentException(
          String.format(
              "%d-bit config access at 0x%x of %s is not %d-byte aligned",
              width * 8, offset, name, width));
    }
  }
}
