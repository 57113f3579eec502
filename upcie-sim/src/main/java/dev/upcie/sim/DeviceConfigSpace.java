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
  private final ByteBuffer hardwareWritable;
  private final int msi;
  private final int msix;
  private volatile Written listener = (offset, width, value) -> {};

  /** What the model hears of a driver's write. */
  interface Written {
    void written(int offset, int width, int value);
  }

  /**
   * @param barSizes the size of each BAR, 0 where none: the hardware's BAR registers keep only the
   *     address bits above the size
   */
  DeviceConfigSpace(String name, byte[] config, long[] barSizes) {
    this.name = name;
    this.bytes = ByteBuffer.wrap(config.clone()).order(ByteOrder.LITTLE_ENDIAN);
    this.writable = ByteBuffer.allocate(config.length).order(ByteOrder.LITTLE_ENDIAN);
    this.writable.putShort((int) PciConfigRegisters.COMMAND.offset(), (short) COMMAND_WRITABLE);
    this.msi = capability(PciCapability.MSI).map(PciCapability::offset).orElse(0);
    this.msix = capability(PciCapability.MSIX).map(PciCapability::offset).orElse(0);
    this.hardwareWritable = hardwareMask(barSizes);
  }

  /**
   * What the hardware lets the kernel change, as QEMU 7.2's {@code pci_init_wmask} and {@code
   * pci_register_bar} set it: the command bits (and SERR), cache line size, interrupt line, the
   * BARs' address bits, and every byte after the header that no capability claims. Capabilities are
   * read-only here: the kernel's own MSI programming is not modelled (the interrupt API enables
   * MSI).
   */
  private ByteBuffer hardwareMask(long[] barSizes) {
    int size = bytes.capacity();
    ByteBuffer mask = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    mask.putShort(0x04, (short) (COMMAND_WRITABLE | 0x0100));
    mask.put(0x0c, (byte) 0xff);
    mask.put(0x3c, (byte) 0xff);
    for (int i = 0; i < 6; i++) {
      long barSize = barSizes[i];
      if (barSize == 0) {
        continue;
      }
      boolean wide = (bytes.getInt(0x10 + 4 * i) & 0x6) == 0x4;
      mask.putInt(0x10 + 4 * i, (int) -barSize & ~0xf);
      if (wide && i < 5) {
        mask.putInt(0x14 + 4 * i, (int) (-barSize >>> 32));
      }
    }
    for (int at = 0x40; at < size; at++) {
      mask.put(at, (byte) 0xff);
    }
    for (PciCapability c : capabilities()) {
      if (!c.extended()) {
        for (int at = c.offset(); at < Math.min(size, c.offset() + capabilitySize(c)); at++) {
          mask.put(at, (byte) 0);
        }
      }
    }
    return mask;
  }

  /** A standard capability's length, as QEMU lays them out. */
  private int capabilitySize(PciCapability c) {
    int flags = Short.toUnsignedInt(bytes.getShort(c.offset() + 2));
    return switch (c.id()) {
      case PciCapability.MSI ->
          0xa + ((flags & 0x80) != 0 ? 4 : 0) + ((flags & 0x100) != 0 ? 10 : 0);
      case PciCapability.MSIX -> 12;
      case 0x01 -> 8; // power management
      case 0x10 -> 0x3c; // PCI Express, version 2
      case 0x09 -> Byte.toUnsignedInt(bytes.get(c.offset() + 2)); // vendor-specific: its length
      default -> 0x100 - c.offset();
    };
  }

  /**
   * A write through the {@code config} attribute: the kernel reaches the hardware, whose own masks
   * apply, and the model hears of it.
   */
  void writeFromKernel(int offset, int width, int value) {
    ConfigSpace.checkAccess(name, size(), offset, width);
    synchronized (this) {
      for (int i = 0; i < width; i++) {
        int mask = hardwareWritable.get(offset + i);
        int now = bytes.get(offset + i);
        bytes.put(offset + i, (byte) ((now & ~mask) | ((value >>> (8 * i)) & mask)));
      }
    }
    listener.written(offset, width, width == 4 ? value : value & ((1 << (8 * width)) - 1));
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
