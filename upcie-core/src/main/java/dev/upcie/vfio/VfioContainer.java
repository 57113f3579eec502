package dev.upcie.vfio;

import dev.upcie.dma.DmaException;
import dev.upcie.dma.IovaAllocator;
import dev.upcie.dma.IovaRange;
import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import dev.upcie.memory.Iova;
import dev.upcie.support.Sizes;
import dev.upcie.sys.NativeFd;
import dev.upcie.sys.Posix;
import dev.upcie.sys.SystemCalls;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The VFIO container of this process ({@code /dev/vfio/vfio}): one IOMMU context, shared by every
 * device the process opens, so that memory mapped once is reachable by all of them.
 *
 * <p>Reference-counted: {@link #acquire} hands out the one container of a host, opening it on first
 * use; groups and DMA mappings hold a reference too; the last {@link #release} closes it. The IOMMU
 * model (type1v2, else type1) is set when the first group joins, as the kernel requires, and then
 * the IOVA apertures are read ({@code VFIO_IOMMU_GET_INFO}) for the allocator. When the last group
 * leaves, the kernel drops the IOMMU context and every mapping with it; mappings made before then
 * know it by their allocator, which goes with the context, and do not unmap twice. Group changes
 * and DMA mapping are serialized on the container.
 *
 * <p>iommufd and vfio cdev have their place beside this class; Debian's kernels are built without
 * them, so there is no code for them yet (see {@link VfioBackend}).
 */
final class VfioContainer {
  private static final Map<Key, VfioContainer> OPEN = new HashMap<>();

  private final Key key;
  private final SystemCalls calls;
  private final NativeFd fd;
  private final int iommuType;
  private final Map<Integer, VfioGroup> groups = new HashMap<>();
  private int references;
  private boolean iommuSet;
  private IovaAllocator iovas;

  private VfioContainer(Key key, SystemCalls calls, NativeFd fd, int iommuType) {
    this.key = key;
    this.calls = calls;
    this.fd = fd;
    this.iommuType = iommuType;
  }

  /**
   * The container for devices under {@code dev}, opened on first use; pair with {@link #release}.
   *
   * @throws VfioException if VFIO is absent, not permitted, or has no type1 IOMMU
   */
  static VfioContainer acquire(SystemCalls calls, Path dev) {
    Key key = new Key(calls, dev.toString());
    synchronized (OPEN) {
      VfioContainer container = OPEN.get(key);
      if (container == null) {
        container = open(key, calls, dev.resolve("vfio/vfio").toString());
        OPEN.put(key, container);
      }
      synchronized (container) {
        container.references++;
      }
      return container;
    }
  }

  private static VfioContainer open(Key key, SystemCalls calls, String path) {
    NativeFd fd;
    try {
      fd = calls.open(path, Posix.O_RDWR);
    } catch (ErrnoException e) {
      if (e.is(Errno.ENOENT)) {
        throw new VfioException(
            "VFIO is not available: "
                + path
                + " does not exist; load it with `modprobe vfio-pci` (as root)",
            e);
      }
      if (e.is(Errno.EACCES) || e.is(Errno.EPERM)) {
        throw new VfioException("cannot open " + path + ": " + e.errno() + "; run as root", e);
      }
      throw new VfioException("cannot open " + path + ": " + e.getMessage(), e);
    }
    try {
      int version = calls.ioctl(fd, VfioAbi.GET_API_VERSION);
      if (version != VfioAbi.API_VERSION) {
        throw new VfioException(
            "unsupported VFIO API version " + version + " (expected " + VfioAbi.API_VERSION + ")");
      }
      int type;
      if (calls.ioctl(fd, VfioAbi.CHECK_EXTENSION, VfioAbi.TYPE1V2_IOMMU) == 1) {
        type = VfioAbi.TYPE1V2_IOMMU;
      } else if (calls.ioctl(fd, VfioAbi.CHECK_EXTENSION, VfioAbi.TYPE1_IOMMU) == 1) {
        type = VfioAbi.TYPE1_IOMMU;
      } else {
        throw new VfioException(
            "the VFIO container supports no type1 IOMMU: load it with `modprobe vfio_iommu_type1`"
                + " and check that the IOMMU is on (intel_iommu=on or amd_iommu=on)");
      }
      return new VfioContainer(key, calls, fd, type);
    } catch (ErrnoException e) {
      fd.close();
      throw new VfioException(
          "cannot set up the VFIO container " + path + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      fd.close();
      throw e;
    }
  }

  /** How many containers this process has open: one per host at most. */
  static int openCount() {
    synchronized (OPEN) {
      return OPEN.size();
    }
  }

  /** Takes another reference; the caller holds this container's lock or a reference already. */
  private synchronized void retain() {
    if (references == 0) {
      throw new IllegalStateException("the VFIO container is closed");
    }
    references++;
  }

  /** Drops a reference; the last closes the container. Never called holding this lock. */
  void release() {
    synchronized (OPEN) {
      synchronized (this) {
        if (--references > 0) {
          return;
        }
        OPEN.remove(key, this);
        fd.close();
      }
    }
  }

  /** The IOMMU model: {@code VFIO_TYPE1v2_IOMMU} (3) or {@code VFIO_TYPE1_IOMMU} (1). */
  int iommuType() {
    return iommuType;
  }

  /**
   * The group {@code number}, opened and attached on first use, with a reference for the caller;
   * pair with {@link #releaseGroup}. Groups are counted under this container's lock, so a group
   * being closed is never handed out.
   *
   * @throws VfioException if the group node is absent, busy, not viable or not permitted
   */
  synchronized VfioGroup group(int number, Path dev) {
    VfioGroup group = groups.get(number);
    if (group == null) {
      group = VfioGroup.open(this, calls, number, dev.resolve("vfio/" + number).toString());
      groups.put(number, group);
      retain();
    }
    group.references++;
    return group;
  }

  /**
   * Drops a device's reference to {@code group}; the last closes it, which detaches it from the
   * container. With the last group the kernel drops the IOMMU context and every mapping in it: the
   * allocator goes too, and mappings made in it know they are gone.
   */
  void releaseGroup(VfioGroup group) {
    synchronized (this) {
      if (--group.references > 0) {
        return;
      }
      groups.remove(group.number(), group);
      if (groups.isEmpty()) {
        iommuSet = false;
        iovas = null;
      }
      group.fd().close();
    }
    release();
  }

  NativeFd fd() {
    return fd;
  }

  /**
   * Sets the IOMMU model once the first group has joined, and reads the apertures; if either fails,
   * the container is as before (the caller closes the group, which drops the context).
   */
  synchronized void ensureIommuSet() {
    if (iommuSet) {
      return;
    }
    try {
      calls.ioctl(fd, VfioAbi.SET_IOMMU, iommuType);
    } catch (ErrnoException e) {
      throw new VfioException("cannot set the container's IOMMU model: " + e.getMessage(), e);
    }
    List<IovaRange> apertures = apertures();
    iovas =
        apertures.isEmpty() ? IovaAllocator.withDefaultAperture() : new IovaAllocator(apertures);
    iommuSet = true;
  }

  /** The IOVA allocator of the IOMMU context, for its apertures. */
  synchronized IovaAllocator iovas() {
    if (iovas == null) {
      throw new IllegalStateException("no device of this VFIO container is open");
    }
    return iovas;
  }

  /**
   * Maps {@code segment} for every device of the container, readable and writable, at an IOVA of
   * {@code alignment} at or below {@code limit}; the mapping holds a reference to the container
   * until {@link #unmap}. Serialized with group changes, so the IOMMU context cannot change between
   * choosing the IOVA and mapping it.
   *
   * @throws DmaException if no IOVA range fits or the kernel refuses, saying why
   */
  synchronized IommuMapping map(MemorySegment segment, long alignment, long limit) {
    IovaAllocator allocator = iovas();
    long size = segment.byteSize();
    Iova iova = allocator.allocate(size, alignment, limit);
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment map = arena.allocate(VfioAbi.DMA_MAP);
      VfioAbi.DMA_MAP_ARGSZ.set(map, 0L, (int) VfioAbi.DMA_MAP.byteSize());
      VfioAbi.DMA_MAP_FLAGS.set(map, 0L, VfioAbi.DMA_MAP_FLAG_READ | VfioAbi.DMA_MAP_FLAG_WRITE);
      VfioAbi.DMA_MAP_VADDR.set(map, 0L, segment.address());
      VfioAbi.DMA_MAP_IOVA.set(map, 0L, iova.value());
      VfioAbi.DMA_MAP_SIZE.set(map, 0L, size);
      calls.ioctl(fd, VfioAbi.IOMMU_MAP_DMA, map);
    } catch (ErrnoException e) {
      allocator.free(iova, size);
      throw new DmaException(
          "cannot map "
              + Sizes.human(size)
              + " at "
              + iova
              + " through the IOMMU: "
              + e.getMessage()
              + mapAdvice(e),
          e);
    }
    retain();
    return new IommuMapping(iova, size, allocator);
  }

  private static String mapAdvice(ErrnoException e) {
    if (e.is(Errno.ENOMEM)) {
      return "; the kernel pins mapped memory and counts it against RLIMIT_MEMLOCK: raise the"
          + " limit (ulimit -l) or run as root";
    }
    if (e.is(Errno.ENOSPC)) {
      return "; the IOMMU driver's limit on mappings is reached (vfio_iommu_type1's"
          + " dma_entry_limit, 65535 by default): use fewer, larger mappings";
    }
    return e.is(Errno.EEXIST) ? "; that IOVA range is already mapped" : "";
  }

  /**
   * Undoes {@code mapping}, if the IOMMU context it was made in still exists, and drops its
   * reference to the container.
   *
   * @throws DmaException if the kernel refuses to unmap
   */
  void unmap(IommuMapping mapping) {
    try {
      synchronized (this) {
        if (iovas != mapping.allocator()) {
          return;
        }
        unmapNow(mapping);
      }
    } finally {
      release();
    }
  }

  private void unmapNow(IommuMapping mapping) {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment unmap = arena.allocate(VfioAbi.DMA_UNMAP);
      VfioAbi.DMA_UNMAP_ARGSZ.set(unmap, 0L, (int) VfioAbi.DMA_UNMAP.byteSize());
      VfioAbi.DMA_UNMAP_IOVA.set(unmap, 0L, mapping.iova().value());
      VfioAbi.DMA_UNMAP_SIZE.set(unmap, 0L, mapping.size());
      calls.ioctl(fd, VfioAbi.IOMMU_UNMAP_DMA, unmap);
      long unmapped = (long) VfioAbi.DMA_UNMAP_SIZE.get(unmap, 0L);
      if (unmapped != mapping.size()) {
        throw new DmaException(
            "the IOMMU unmapped "
                + Sizes.human(unmapped)
                + " of the "
                + Sizes.human(mapping.size())
                + " mapped at "
                + mapping.iova());
      }
      mapping.allocator().free(mapping.iova(), mapping.size());
    } catch (ErrnoException e) {
      throw new DmaException(
          "cannot unmap " + mapping.iova() + " from the IOMMU: " + e.getMessage(), e);
    }
  }

  /**
   * One IOMMU mapping: where, how big, and the allocator (so the IOMMU context) it came from.
   *
   * @param iova where the device sees it
   * @param size its size
   * @param allocator the allocator of the context it was made in
   */
  record IommuMapping(Iova iova, long size, IovaAllocator allocator) {}

  /** The apertures {@code VFIO_IOMMU_GET_INFO} reports; empty if the kernel reports none. */
  private List<IovaRange> apertures() {
    try (Arena arena = Arena.ofConfined()) {
      int argsz = (int) VfioAbi.IOMMU_INFO.byteSize();
      MemorySegment info = arena.allocate(argsz, 8);
      VfioAbi.IOMMU_INFO_ARGSZ.set(info, 0L, argsz);
      calls.ioctl(fd, VfioAbi.IOMMU_GET_INFO, info);
      int needed = (int) VfioAbi.IOMMU_INFO_ARGSZ.get(info, 0L);
      if (needed > argsz) {
        // The capabilities did not fit: ask again with room for them.
        info = arena.allocate(needed, 8);
        VfioAbi.IOMMU_INFO_ARGSZ.set(info, 0L, needed);
        calls.ioctl(fd, VfioAbi.IOMMU_GET_INFO, info);
      }
      int flags = (int) VfioAbi.IOMMU_INFO_FLAGS.get(info, 0L);
      List<IovaRange> ranges = new ArrayList<>();
      if ((flags & VfioAbi.IOMMU_INFO_CAPS) == 0) {
        return ranges;
      }
      int offset = (int) VfioAbi.IOMMU_INFO_CAP_OFFSET.get(info, 0L);
      for (int seen = 0; offset != 0 && offset + 8 <= info.byteSize() && seen < 64; seen++) {
        int id = Short.toUnsignedInt(info.get(ValueLayout.JAVA_SHORT_UNALIGNED, offset));
        int next = info.get(ValueLayout.JAVA_INT_UNALIGNED, offset + 4);
        if (id == VfioAbi.IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
          int count = info.get(ValueLayout.JAVA_INT_UNALIGNED, offset + 8);
          long first = offset + VfioAbi.CAP_IOVA_RANGE.byteSize();
          for (int i = 0; i < count && first + 16L * (i + 1) <= info.byteSize(); i++) {
            long start = info.get(ValueLayout.JAVA_LONG_UNALIGNED, first + 16L * i);
            long end = info.get(ValueLayout.JAVA_LONG_UNALIGNED, first + 16L * i + 8);
            // Clip apertures above 2^63: no device is given such addresses.
            if (start >= 0) {
              ranges.add(new IovaRange(start, end < 0 ? Long.MAX_VALUE : end));
            }
          }
        }
        offset = next;
      }
      return ranges;
    } catch (ErrnoException e) {
      throw new VfioException("cannot read the IOMMU's apertures: " + e.getMessage(), e);
    }
  }

  /** Containers are per system calls (a scripted test kernel is another machine) and /dev. */
  private record Key(SystemCalls calls, String dev) {}
}
