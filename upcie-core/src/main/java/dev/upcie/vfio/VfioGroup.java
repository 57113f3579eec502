package dev.upcie.vfio;

import dev.upcie.pci.PciAddress;
import dev.upcie.sys.Errno;
import dev.upcie.sys.ErrnoException;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A VFIO group ({@code /dev/vfio/N}): the unit of isolation the IOMMU gives, attached to a
 * container, from which device descriptors are obtained.
 */
public final class VfioGroup implements AutoCloseable {
  private final int number;
  private final NativeFd fd;

  private VfioGroup(int number, NativeFd fd) {
    this.number = number;
    this.fd = fd;
  }

  /**
   * Opens group {@code number}, checks that it is viable, and attaches it to {@code container}.
   *
   * @throws VfioException if the group node is absent, busy, not viable or not permitted
   */
  public static VfioGroup open(int number, VfioContainer container) {
    String path = "/dev/vfio/" + number;
    NativeFd fd;
    try {
      fd = Syscalls.open(path, Posix.O_RDWR);
    } catch (ErrnoException e) {
      throw new VfioException(openFailure(number, path, e), e);
    }
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment status = arena.allocate(VfioAbi.GROUP_STATUS);
      VfioAbi.GROUP_STATUS_ARGSZ.set(status, 0L, (int) VfioAbi.GROUP_STATUS.byteSize());
      Syscalls.ioctl(fd, VfioAbi.GROUP_GET_STATUS, status);
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
        Syscalls.ioctl(
            fd, VfioAbi.GROUP_SET_CONTAINER, arena.allocateFrom(ValueLayout.JAVA_INT, containerFd));
      } finally {
        container.fd().release();
      }
      container.ensureIommuSet();
      return new VfioGroup(number, fd);
    } catch (ErrnoException e) {
      fd.close();
      throw new VfioException("cannot set up IOMMU group " + number + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      fd.close();
      throw e;
    }
  }

  /** The group number, as in {@code /dev/vfio/N}. */
  public int number() {
    return number;
  }

  /**
   * Gets a descriptor for the device at {@code address}, which must be in this group.
   *
   * @throws VfioException if the kernel refuses
   */
  public VfioDevice openDevice(PciAddress address) {
    try (Arena arena = Arena.ofConfined()) {
      int deviceFd =
          Syscalls.ioctl(fd, VfioAbi.GROUP_GET_DEVICE_FD, arena.allocateFrom(address.toString()));
      return new VfioDevice(address, Syscalls.adopt(deviceFd, "vfio device " + address));
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

  /** Detaches from the container and closes the group. */
  @Override
  public void close() {
    fd.close();
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
          + ") is already open, by another process or another handle in this one: a group has one"
          + " owner at a time";
    }
    if (e.is(Errno.EACCES) || e.is(Errno.EPERM)) {
      return "cannot open " + path + ": " + e.errno() + "; run as root or chown " + path;
    }
    return "cannot open " + path + ": " + e.getMessage();
  }
}
