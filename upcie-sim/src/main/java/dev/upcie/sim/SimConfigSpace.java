package dev.upcie.sim;

import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciConfigRegisters;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A simulated function's configuration space: the bytes its sysfs {@code config} file showed when
 * it was opened, with the command register's I/O, memory, bus-master and INTx-disable bits writable
 * and every other byte read-only, as a device without writable registers of its own has them.
 * Thread-safe.
 */
final class SimConfigSpace implements ConfigSpace {
  private static final int COMMAND_WRITABLE =
      (int)
          (PciConfigRegisters.COMMAND_IO.mask()
              | PciConfigRegisters.COMMAND_MEMORY.mask()
              | PciConfigRegisters.COMMAND_BUS_MASTER.mask()
              | PciConfigRegisters.COMMAND_INTX_DISABLE.mask());

  private final String name;
  private final ByteBuffer bytes;
  private final ByteBuffer writable;
  private final SimPciDevice handle;

  SimConfigSpace(String name, byte[] config, SimPciDevice handle) {
    this.name = name;
    this.bytes = ByteBuffer.wrap(config.clone()).order(ByteOrder.LITTLE_ENDIAN);
    this.writable = ByteBuffer.allocate(config.length).order(ByteOrder.LITTLE_ENDIAN);
    this.writable.putShort((int) PciConfigRegisters.COMMAND.offset(), (short) COMMAND_WRITABLE);
    this.handle = handle;
  }

  @Override
  public int size() {
    return bytes.capacity();
  }

  @Override
  public synchronized int read8(int offset) {
    check(offset, 1);
    return Byte.toUnsignedInt(bytes.get(offset));
  }

  @Override
  public synchronized int read16(int offset) {
    check(offset, 2);
    return Short.toUnsignedInt(bytes.getShort(offset));
  }

  @Override
  public synchronized int read32(int offset) {
    check(offset, 4);
    return bytes.getInt(offset);
  }

  @Override
  public synchronized void write8(int offset, int value) {
    check(offset, 1);
    byte mask = writable.get(offset);
    bytes.put(offset, (byte) ((bytes.get(offset) & ~mask) | (value & mask)));
  }

  @Override
  public synchronized void write16(int offset, int value) {
    check(offset, 2);
    short mask = writable.getShort(offset);
    bytes.putShort(offset, (short) ((bytes.getShort(offset) & ~mask) | (value & mask)));
  }

  @Override
  public synchronized void write32(int offset, int value) {
    check(offset, 4);
    int mask = writable.getInt(offset);
    bytes.putInt(offset, (bytes.getInt(offset) & ~mask) | (value & mask));
  }

  private void check(int offset, int width) {
    handle.checkOpen();
    ConfigSpace.checkAccess(name, size(), offset, width);
  }

  @Override
  public String toString() {
    return "ConfigSpace[" + name + ", " + size() + " bytes, simulated]";
  }
}
