package dev.upcie.vfio;

import dev.upcie.sys.Errno;
import dev.upcie.sys.ErrnoException;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.Syscalls;

/**
 * A VFIO container ({@code /dev/vfio/vfio}): one IOMMU context that groups are attached to.
 *
 * <p>Opening checks the API version and picks the type1 IOMMU model (v2 where the kernel has it).
 * The IOMMU model is set when the first group joins, as the kernel requires.
 */
public final class VfioContainer implements AutoCloseable {
  /** The container device node. */
  public static final String PATH = "/dev/vfio/vfio";

  private final NativeFd fd;
  private final int iommuType;
  private boolean iommuSet;

  private VfioContainer(NativeFd fd, int iommuType) {
    this.fd = fd;
    this.iommuType = iommuType;
  }

  /**
   * Opens a new container.
   *
   * @throws VfioException if VFIO is absent, not permitted, or too old
   */
  public static VfioContainer open() {
    NativeFd fd;
    try {
      fd = Syscalls.open(PATH, Posix.O_RDWR);
    } catch (ErrnoException e) {
      if (e.is(Errno.ENOENT)) {
        throw new VfioException(
            "VFIO is not available: "
                + PATH
                + " does not exist; load it with `modprobe vfio-pci` (as root)",
            e);
      }
      if (e.is(Errno.EACCES) || e.is(Errno.EPERM)) {
        throw new VfioException("cannot open " + PATH + ": " + e.errno() + "; run as root", e);
      }
      throw new VfioException("cannot open " + PATH + ": " + e.getMessage(), e);
    }
    try {
      int version = Syscalls.ioctl(fd, VfioAbi.GET_API_VERSION);
      if (version != VfioAbi.API_VERSION) {
        throw new VfioException(
            "unsupported VFIO API version " + version + " (expected " + VfioAbi.API_VERSION + ")");
      }
      int type;
      if (Syscalls.ioctl(fd, VfioAbi.CHECK_EXTENSION, VfioAbi.TYPE1V2_IOMMU) == 1) {
        type = VfioAbi.TYPE1V2_IOMMU;
      } else if (Syscalls.ioctl(fd, VfioAbi.CHECK_EXTENSION, VfioAbi.TYPE1_IOMMU) == 1) {
        type = VfioAbi.TYPE1_IOMMU;
      } else {
        throw new VfioException(
            "the VFIO container supports no type1 IOMMU: load it with `modprobe vfio_iommu_type1`"
                + " and check that the IOMMU is on (intel_iommu=on or amd_iommu=on)");
      }
      return new VfioContainer(fd, type);
    } catch (RuntimeException e) {
      fd.close();
      throw e;
    }
  }

  /** The IOMMU model: {@code VFIO_TYPE1v2_IOMMU} (3) or {@code VFIO_TYPE1_IOMMU} (1). */
  public int iommuType() {
    return iommuType;
  }

  NativeFd fd() {
    return fd;
  }

  /** Sets the IOMMU model once a group has joined; later calls do nothing. */
  synchronized void ensureIommuSet() {
    if (!iommuSet) {
      try {
        Syscalls.ioctl(fd, VfioAbi.SET_IOMMU, iommuType);
      } catch (ErrnoException e) {
        throw new VfioException("cannot set the container's IOMMU model: " + e.getMessage(), e);
      }
      iommuSet = true;
    }
  }

  /** Closes the container; groups still attached keep it alive in the kernel until they close. */
  @Override
  public void close() {
    fd.close();
  }
}
