package dev.upcie.vfio;

import dev.upcie.errno.ErrnoException;
import dev.upcie.pci.PciAddress;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.SystemCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A device descriptor from a {@link VfioGroup}: device, region and interrupt information, region
 * mappings, interrupt wiring and reset. The raw VFIO layer; {@link VfioPciDevice} builds the handle
 * on it.
 */
final class VfioDevice {
  private final PciAddress address;
  private final SystemCalls calls;
  private final NativeFd fd;

  VfioDevice(PciAddress address, SystemCalls calls, NativeFd fd) {
    this.address = address;
    this.calls = calls;
    this.fd = fd;
  }

  NativeFd fd() {
    return fd;
  }

  SystemCalls calls() {
    return calls;
  }

  /**
   * {@code VFIO_DEVICE_GET_INFO}'s flags, after checking that this is a PCI device.
   *
   * @throws VfioException if the kernel refuses or the device is not a vfio-pci device
   */
  int flags() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(VfioAbi.DEVICE_INFO);
      VfioAbi.DEVICE_INFO_ARGSZ.set(info, 0L, (int) VfioAbi.DEVICE_INFO.byteSize());
      calls.ioctl(fd, VfioAbi.DEVICE_GET_INFO, info);
      int flags = (int) VfioAbi.DEVICE_INFO_FLAGS.get(info, 0L);
      if ((flags & VfioAbi.DEVICE_FLAGS_PCI) == 0) {
        throw new VfioException(
            address + " is not a vfio-pci device (flags 0x" + Integer.toHexString(flags) + ")");
      }
      return flags;
    } catch (ErrnoException e) {
      throw new VfioException("cannot get device info of " + address + ": " + e.getMessage(), e);
    }
  }

  /**
   * What {@code VFIO_DEVICE_GET_REGION_INFO} reports for region {@code index}.
   *
   * @throws VfioException if the kernel refuses
   */
  VfioRegionInfo regionInfo(int index) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(VfioAbi.REGION_INFO);
      VfioAbi.REGION_INFO_ARGSZ.set(info, 0L, (int) VfioAbi.REGION_INFO.byteSize());
      VfioAbi.REGION_INFO_INDEX.set(info, 0L, index);
      calls.ioctl(fd, VfioAbi.DEVICE_GET_REGION_INFO, info);
      return new VfioRegionInfo(
          index,
          (int) VfioAbi.REGION_INFO_FLAGS.get(info, 0L),
          (long) VfioAbi.REGION_INFO_SIZE.get(info, 0L),
          (long) VfioAbi.REGION_INFO_OFFSET.get(info, 0L));
    } catch (ErrnoException e) {
      throw new VfioException(
          "cannot get region " + index + " info of " + address + ": " + e.getMessage(), e);
    }
  }

  /**
   * Maps a whole region into {@code arena}; closing the arena unmaps it.
   *
   * @throws VfioException if the region is not mappable or the kernel refuses
   */
  MemorySegment map(VfioRegionInfo region, Arena arena) {
    try {
      return calls.mmap(fd, region.offset(), region.size(), arena);
    } catch (ErrnoException e) {
      throw new VfioException(
          "cannot map region " + region.index() + " of " + address + ": " + e.getMessage(), e);
    }
  }

  /** How many vectors interrupt index {@code index} offers ({@code VFIO_DEVICE_GET_IRQ_INFO}). */
  int irqCount(int index) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(VfioAbi.IRQ_INFO);
      VfioAbi.IRQ_INFO_ARGSZ.set(info, 0L, (int) VfioAbi.IRQ_INFO.byteSize());
      VfioAbi.IRQ_INFO_INDEX.set(info, 0L, index);
      calls.ioctl(fd, VfioAbi.DEVICE_GET_IRQ_INFO, info);
      return (int) VfioAbi.IRQ_INFO_COUNT.get(info, 0L);
    } catch (ErrnoException e) {
      throw new VfioException(
          "cannot get interrupt index " + index + " info of " + address + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code VFIO_DEVICE_SET_IRQS} for vectors {@code start} to {@code start + count - 1} of {@code
   * index}: with {@code eventfds} (one per vector) for {@code DATA_EVENTFD}, or none.
   */
  void setIrqs(int index, int flags, int start, int count, int[] eventfds) {
    int data = eventfds == null ? 0 : eventfds.length * Integer.BYTES;
    try (Arena arena = Arena.ofConfined()) {
      int argsz = (int) VfioAbi.IRQ_SET.byteSize() + data;
      MemorySegment set = arena.allocate(argsz, 4);
      VfioAbi.IRQ_SET_ARGSZ.set(set, 0L, argsz);
      VfioAbi.IRQ_SET_FLAGS.set(set, 0L, flags);
      VfioAbi.IRQ_SET_INDEX.set(set, 0L, index);
      VfioAbi.IRQ_SET_START.set(set, 0L, start);
      VfioAbi.IRQ_SET_COUNT.set(set, 0L, count);
      if (eventfds != null) {
        MemorySegment.copy(
            eventfds, 0, set, ValueLayout.JAVA_INT, VfioAbi.IRQ_SET.byteSize(), eventfds.length);
      }
      calls.ioctl(fd, VfioAbi.DEVICE_SET_IRQS, set);
    } catch (ErrnoException e) {
      throw new VfioException(
          "cannot set interrupts (index "
              + index
              + ", vectors "
              + start
              + "+"
              + count
              + ") of "
              + address
              + ": "
              + e.getMessage(),
          e);
    }
  }

  /**
   * {@code VFIO_DEVICE_RESET}.
   *
   * @throws VfioException if the kernel refuses
   */
  void reset() {
    try {
      calls.ioctl(fd, VfioAbi.DEVICE_RESET);
    } catch (ErrnoException e) {
      throw new VfioException("cannot reset " + address + ": " + e.getMessage(), e);
    }
  }

  /** Releases the device; its mappings stay valid until their arena closes. */
  void close() {
    fd.close();
  }
}
