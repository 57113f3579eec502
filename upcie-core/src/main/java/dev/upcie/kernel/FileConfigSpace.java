package dev.upcie.kernel;

import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import dev.upcie.pci.ConfigSpace;
import dev.upcie.pci.PciException;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.SystemCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Configuration space read and written with {@code pread}/{@code pwrite} at an offset of a file:
 * VFIO's config region of the device descriptor, or the sysfs {@code config} attribute (UIO).
 * Thread-safe: accesses are serialized.
 */
public final class FileConfigSpace implements ConfigSpace {
  private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
  private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;

  private final String name;
  private final SystemCalls calls;
  private final NativeFd fd;
  private final long base;
  private final int size;
  private final MemorySegment scratch;

  /**
   * Config space of {@code size} bytes at {@code base} in {@code fd}.
   *
   * @param name what it is, for messages: {@code config space of 0000:00:05.0}
   * @param arena owns the scratch buffer; a shared arena if several threads use the space
   */
  public FileConfigSpace(
      String name, SystemCalls calls, NativeFd fd, long base, int size, Arena arena) {
    this.name = name;
    this.calls = calls;
    this.fd = fd;
    this.base = base;
    this.size = size;
    this.scratch = arena.allocate(8, 8);
  }

  @Override
  public int size() {
    return size;
  }

  @Override
  public synchronized int read8(int offset) {
    read(offset, 1);
    return Byte.toUnsignedInt(scratch.get(ValueLayout.JAVA_BYTE, 0));
  }

  @Override
  public synchronized int read16(int offset) {
    read(offset, 2);
    return Short.toUnsignedInt(scratch.get(SHORT, 0));
  }

  @Override
  public synchronized int read32(int offset) {
    read(offset, 4);
    return scratch.get(INT, 0);
  }

  @Override
  public synchronized void write8(int offset, int value) {
    scratch.set(ValueLayout.JAVA_BYTE, 0, (byte) value);
    write(offset, 1);
  }

  @Override
  public synchronized void write16(int offset, int value) {
    scratch.set(SHORT, 0, (short) value);
    write(offset, 2);
  }

  @Override
  public synchronized void write32(int offset, int value) {
    scratch.set(INT, 0, value);
    write(offset, 4);
  }

  private void read(int offset, int width) {
    ConfigSpace.checkAccess(name, size, offset, width);
    long n;
    try {
      n = calls.pread(fd, scratch.asSlice(0, width), base + offset);
    } catch (ErrnoException e) {
      throw new PciException("cannot read " + where(offset, width) + ": " + e.getMessage(), e);
    }
    if (n != width) {
      throw new PciException(
          "short read of "
              + where(offset, width)
              + ": "
              + n
              + " bytes"
              + (offset >= 64
                  ? " (the kernel shows a process without CAP_SYS_ADMIN only the first 64 bytes)"
                  : ""));
    }
  }

  private void write(int offset, int width) {
    ConfigSpace.checkAccess(name, size, offset, width);
    long n;
    try {
      n = calls.pwrite(fd, scratch.asSlice(0, width), base + offset);
    } catch (ErrnoException e) {
      throw new PciException(
          "cannot write "
              + where(offset, width)
              + ": "
              + e.getMessage()
              + (e.is(Errno.EACCES) || e.is(Errno.EPERM)
                  ? "; writing config space needs root"
                  : ""),
          e);
    }
    if (n != width) {
      throw new PciException("short write of " + where(offset, width) + " (" + n + " bytes)");
    }
  }

  private String where(int offset, int width) {
    return String.format("%d bits at 0x%x of %s", width * 8, offset, name);
  }

  @Override
  public String toString() {
    return "ConfigSpace[" + name + ", " + size + " bytes]";
  }
}
