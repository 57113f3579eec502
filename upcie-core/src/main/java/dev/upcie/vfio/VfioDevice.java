package dev.upcie.vfio;

import dev.upcie.pci.PciAddress;
import dev.upcie.sys.ErrnoException;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A device descriptor obtained from a {@link VfioGroup}: region information and mappings.
 *
 * <p>This is the raw VFIO layer; drivers normally use {@link VfioPciDevice}, which adds BAR
 * bookkeeping on top.
 */
public final class VfioDevice implements AutoCloseable {
  private final PciAddress address;
  private final NativeFd fd;

  VfioDevice(PciAddress address, NativeFd fd) {
    this.address = address;
    this.fd = fd;
  }

  /** The function this descriptor refers to. */
  public PciAddress address() {
    return address;
  }

  /**
   * Returns {@code VFIO_DEVICE_GET_INFO}'s region count, after checking that this is a PCI device.
   *
   * @throws VfioException if the kernel refuses or the device is not a vfio-pci device
   */
  public int regionCount() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(VfioAbi.DEVICE_INFO);
      VfioAbi.DEVICE_INFO_ARGSZ.set(info, 0L, (int) VfioAbi.DEVICE_INFO.byteSize());
      Syscalls.ioctl(fd, VfioAbi.DEVICE_GET_INFO, info);
      int flags = (int) VfioAbi.DEVICE_INFO_FLAGS.get(info, 0L);
      if ((flags & VfioAbi.DEVICE_FLAGS_PCI) == 0) {
        throw new VfioException(
            address + " is not a vfio-pci device (flags 0x" + Integer.toHexString(flags) + ")");
      }
      return (int) VfioAbi.DEVICE_INFO_NUM_REGIONS.get(info, 0L);
    } catch (ErrnoException e) {
      throw new VfioException("cannot get device info of " + address + ": " + e.getMessage(), e);
    }
  }

  /**
   * Returns what {@code VFIO_DEVICE_GET_REGION_INFO} reports for region {@code index}.
   *
   * @throws VfioException if the kernel refuses
   */
  public VfioRegionInfo regionInfo(int index) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment info = arena.allocate(VfioAbi.REGION_INFO);
      VfioAbi.REGION_INFO_ARGSZ.set(info, 0L, (int) VfioAbi.REGION_INFO.byteSize());
      VfioAbi.REGION_INFO_INDEX.set(info, 0L, index);
      Syscalls.ioctl(fd, VfioAbi.DEVICE_GET_REGION_INFO, info);
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
  public MemorySegment map(VfioRegionInfo region, Arena arena) {
    if (!region.mappable()) {
      throw new VfioException(
          "region " + region.index() + " of " + address + " cannot be memory-mapped");
    }
    try {
      return Syscalls.mmap(fd, region.offset(), region.size(), arena);
    } catch (ErrnoException e) {
      throw new VfioException(
          "cannot map region " + region.index() + " of " + address + ": " + e.getMessage(), e);
    }
  }

  /** Releases the device; its mappings stay valid until their arena closes. */
  @Override
  public void close() {
    fd.close();
  }
}
