package dev.upcie.vfio;

import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import dev.upcie.pci.PciAddress;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.SystemCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A VFIO group ({@code /dev/vfio/N}): the unit of isolation the IOMMU gives, attached to the
 * process's {@link VfioContainer}, from which device descriptors are obtained.
 *
 * <p>A group can be open once in a system; in this process it is shared by every device of the
 * group and reference-counted by its container: the last device to close it detaches it.
 */
final class VfioGroup {
  private final VfioContainer container;
  private final SystemCalls calls;
  private final int number;
  private final NativeFd fd;
  // Counted by the container, under its lock.
  int references;

  private VfioGroup(VfioContainer container, SystemCalls calls, int number, NativeFd fd) {
    this.container = container;
    this.calls = calls;
    this.number = number;
    this.fd = fd;
  }

  /**
   * Opens group {@code number} at {@code path}, checks that it is viable, and attaches it to {@code
   * container}, setting the container's IOMMU model if it is the first group.
   *
   * @throws VfioException if the group node is absent, busy, not viable or not permitted
   */
  static VfioGroup open(VfioContainer container, SystemCalls calls, int number, String path) {
    NativeFd fd;
    try {
      fd = calls.open(path, Posix.O_RDWR);
    } catch (ErrnoException e) {
      throw new VfioException(openFailure(number, path, e), e);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment status = arena.allocate(VfioAbi.GROUP_STATUS);
      VfioAbi.GROUP_STATUS_ARGSZ.set(status, 0L, (int) VfioAbi.GROUP_STATUS.byteSize());
      calls.ioctl(fd, VfioAbi.GROUP_GET_STATUS, status);
      int flags = (int) VfioAbi.GROUP_STATUS_FLAGS.get(status, 0L);
      if ((flags & VfioAbi.GROUP_FLAGS_VIABLE) == 0) {
        throw new VfioException(
            "IOMMU group "
                + number
                + " is not viable: every device in /sys/kernel/iommu_groups/"
                + number
                + "/devices must be bound to vfio-pci or to no driver");
      }
      // The kernel reads the container's descriptor through a pointer to an int.
      int containerFd = container.fd().acquire();
      try {
        calls.ioctl(
            fd, VfioAbi.GROUP_SET_CONTAINER, arena.allocateFrom(ValueLayout.JAVA_INT, containerFd));
      } finally {
        container.fd().release();
      }
      container.ensureIommuSet();
      return new VfioGroup(container, calls, number, fd);
    } catch (ErrnoException e) {
      fd.close();
      throw new VfioException("cannot set up IOMMU group " + number + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      fd.close();
      throw e;
    }
  }

  /** The group number, as in {@code /dev/vfio/N}. */
  int number() {
    return number;
  }

  NativeFd fd() {
    return fd;
  }

  /**
   * Drops a device's reference; the last closes the group, which detaches it from the container.
   */
  void release() {
    container.releaseGroup(this);
  }

  /**
   * Gets a descriptor for the device at {@code address}, which must be in this group.
   *
   * @throws VfioException if the kernel refuses
   */
  VfioDevice openDevice(PciAddress address) {
    try (Arena arena = Arena.ofConfined()) {
      int deviceFd =
          calls.ioctl(fd, VfioAbi.GROUP_GET_DEVICE_FD, arena.allocateFrom(address.toString()));
      return new VfioDevice(
          address, calls, dev.upcie.sys.Syscalls.adopt(deviceFd, "vfio device " + address));
    } catch (ErrnoException e) {
      throw new VfioException(
          "cannot get a VFIO descriptor for "
              + address
              + " from IOMMU group "
              + number
              + ": "
              + e.getMessage()
              + (e.is(Errno.EBUSY) ? "; another process has the device open" : ""),
          e);
    }
  }

  private static String openFailure(int number, String path, ErrnoException e) {
    if (e.is(Errno.ENOENT)) {
      return path
          + " does not exist: no device of IOMMU group "
          + number
          + " is bound to vfio-pci (or the vfio-pci module is not loaded)";
    }
    if (e.is(Errno.EBUSY)) {
      return "IOMMU group "
          + number
          + " ("
          + path
          + ") is in use by another process: a group has one owner at a time; find it with"
          + " `fuser -v "
          + path
          + "`";
    }
    if (e.is(Errno.EACCES) || e.is(Errno.EPERM)) {
      return "cannot open " + path + ": " + e.errno() + "; run as root or chown " + path;
    }
    return "cannot open " + path + ": " + e.getMessage();
  }
}
