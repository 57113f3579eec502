package dev.upcie.sim;

import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciConfigRegisters;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * A simulated function's configuration space, as the driver sees it: the bytes enumeration laid
 * out, with the command register's I/O, memory, bus-master and INTx-disable bits writable and every
 * other byte read-only. The MSI and MSI-X enable bits are the kernel's to set, as vfio-pci keeps
 * them from the user: the interrupt API sets them through {@link #store16}. Each write the driver
 * makes is passed on to the model after it takes effect. Thread-safe.
 */
final class DeviceConfigSpace implements ConfigSpace {
  private static final int COMMAND_WRITABLE =
      (int)
          (PciConfigRegisters.COMMAND_IO.mask()
              | PciConfigRegisters.COMMAND_MEMORY.mask()
              | PciConfigRegisters.COMMAND_BUS_MASTER.mask()
              | PciConfigRegisters.COMMAND_INTX_DISABLE.mask());

  private final String name;
  private final ByteBuffer bytes;
  private final ByteBuffer writable;
  private final int msi;
  private final int msix;
  private volatile Written listener = (offset, width, value) -> {};

  /** What the model hears of a driver's write. */
  interface Written {
    void written(int offset, int width, int value);
  }

  DeviceConfigSpace(String name, byte[] config) {
    this.name = name;
    this.bytes = ByteBuffer.wrap(config.clone()).order(ByteOrder.LITTLE_ENDIAN);
    this.writable = ByteBuffer.allocate(config.length).order(ByteOrder.LITTLE_ENDIAN);
    this.writable.putShort((int) PciConfigRegisters.COMMAND.offset(), (short) COMMAND_WRITABLE);
    this.msi = capability(PciCapability.MSI).map(PciCapability::offset).orElse(0);
    this.msix = capability(PciCapability.MSIX).map(PciCapability::offset).orElse(0);
  }

  void onWrite(Written listener) {
    this.listener = listener;
  }

  /** Where the MSI capability is, 0 if there is none. */
  int msiOffset() {
    return msi;
  }

  /** Where the MSI-X capability is, 0 if there is none. */
  int msixOffset() {
    return msix;
  }

  @Override
  public int size() {
    return bytes.capacity();
  }

  @Override
  public synchronized int read8(int offset) {
    ConfigSpace.checkAccess(name, size(), offset, 1);
    return Byte.toUnsignedInt(bytes.get(offset));
  }

  @Override
  public synchronized int read16(int offset) {
    ConfigSpace.checkAccess(name, size(), offset, 2);
    return Short.toUnsignedInt(bytes.getShort(offset));
  }

  @Override
  public synchronized int read32(int offset) {
    ConfigSpace.checkAccess(name, size(), offset, 4);
    return bytes.getInt(offset);
  }

  @Override
  public void write8(int offset, int value) {
    ConfigSpace.checkAccess(name, size(), offset, 1);
    synchronized (this) {
      byte mask = writable.get(offset);
      bytes.put(offset, (byte) ((bytes.get(offset) & ~mask) | (value & mask)));
    }
    listener.written(offset, 1, value & 0xff);
  }

  @Override
  public void write16(int offset, int value) {
    ConfigSpace.checkAccess(name, size(), offset, 2);
    synchronized (this) {
      short mask = writable.getShort(offset);
      bytes.putShort(offset, (short) ((bytes.getShort(offset) & ~mask) | (value & mask)));
    }
    listener.written(offset, 2, value & 0xffff);
  }

  @Override
  public void write32(int offset, int value) {
    ConfigSpace.checkAccess(name, size(), offset, 4);
    synchronized (this) {
      int mask = writable.getInt(offset);
      bytes.putInt(offset, (bytes.getInt(offset) & ~mask) | (value & mask));
    }
    listener.written(offset, 4, value);
  }

  /** The kernel's or the device's write: any bits, told to nobody. */
  synchronized void store16(int offset, int value) {
    ConfigSpace.checkAccess(name, size(), offset, 2);
    bytes.putShort(offset, (short) value);
  }

  /** The bytes now, as sysfs {@code config} shows them. */
  synchronized byte[] bytes() {
    return bytes.array().clone();
  }

  @Override
  public String toString() {
    return "ConfigSpace[" + name + ", " + size() + " bytes, simulated]";
  }
}
