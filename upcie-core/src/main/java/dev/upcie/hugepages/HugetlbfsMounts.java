package dev.upcie.hugepages;

import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import dev.upcie.procfs.MountEntry;
import dev.upcie.support.UpcieException;
import dev.upcie.sys.Syscalls;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The hugetlbfs mounts of a machine, read from {@code /proc/mounts}, and mounting and unmounting
 * them. Files created in a hugetlbfs are backed by hugepages of its page size.
 *
 * <pre>{@code
 * HugetlbfsMounts hugetlbfs = Hugepages.system().hugetlbfs();
 * HugetlbfsMount mount = hugetlbfs.mount(Path.of("/dev/hugepages1G"), PageSize.parse("1G"));
 * }</pre>
 */
public final class HugetlbfsMounts {
  private final Hugepages hugepages;

  HugetlbfsMounts(Hugepages hugepages) {
    this.hugepages = hugepages;
  }

  /** Every hugetlbfs mount, in mount order. */
  public List<HugetlbfsMount> list() {
    PageSize defaultSize = null;
    List<HugetlbfsMount> mounts = new ArrayList<>();
    for (MountEntry entry : hugepages.procfs().mounts()) {
      if (!entry.type().equals("hugetlbfs")) {
        continue;
      }
      PageSize size;
      if (entry.option("pagesize").isPresent()) {
        size = PageSize.parse(entry.option("pagesize").get());
      } else {
        defaultSize = defaultSize == null ? hugepages.defaultSize() : defaultSize;
        size = defaultSize;
      }
      mounts.add(new HugetlbfsMount(entry.mountPoint(), size, entry.options()));
    }
    return mounts;
  }

  /** The sizes that have a pool but no hugetlbfs mount, smallest first. */
  public List<PageSize> sizesWithoutMount() {
    List<PageSize> mounted = list().stream().map(HugetlbfsMount::pageSize).toList();
    return hugepages.sizes().stream().filter(s -> !mounted.contains(s)).toList();
  }

  /** The shell commands {@link #mount} runs, for {@code --dry-run}. */
  public String mountCommand(Path directory, PageSize size) {
    return "mkdir -p "
        + directory
        + " && mount -t hugetlbfs -o pagesize="
        + size
        + " nodev "
        + directory;
  }

  /**
   * Mounts hugetlbfs of {@code size} at {@code directory}, creating the directory. Mounting where a
   * hugetlbfs of the same size already is does nothing.
   *
   * @throws UpcieException if something else, or a hugetlbfs of another size, is mounted there, the
   *     size does not exist, or the kernel refuses ({@code EPERM} without root)
   */
  public HugetlbfsMount mount(Path directory, PageSize size) {
    hugepages.requireSize(size);
    Path target = resolved(directory);
    for (MountEntry entry : hugepages.procfs().mounts()) {
      if (!entry.mountPoint().equals(target)) {
        continue;
      }
      if (!entry.type().equals("hugetlbfs")) {
        throw new UpcieException(
            target + " already has a " + entry.type() + " mounted; choose another directory");
      }
      HugetlbfsMount existing = mountAt(target).orElseThrow();
      if (!existing.pageSize().equals(size)) {
        throw new UpcieException(
            target
                + " is already a hugetlbfs mount with page size "
                + existing.pageSize()
                + ", not "
                + size
                + "; unmount it (umount "
                + target
                + ") or choose another directory");
      }
      return existing;
    }
    try {
      Files.createDirectories(target);
    } catch (AccessDeniedException e) {
      throw new UpcieException(
          "cannot create " + target + ": permission denied; mounting needs root",
          new ErrnoException("mkdir", target.toString(), Errno.EACCES));
    } catch (IOException e) {
      throw new UpcieException("cannot create " + target + ": " + e, e);
    }
    try {
      Syscalls.mount("nodev", target.toString(), "hugetlbfs", "pagesize=" + size);
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot mount hugetlbfs at "
              + target
              + ": "
              + e.getMessage()
              + (e.is(Errno.EPERM) ? "; mounting needs root" : ""),
          e);
    }
    return mountAt(target)
        .orElseThrow(
            () -> new UpcieException("mounted " + target + " but /proc/mounts does not show it"));
  }

  /**
   * Unmounts the hugetlbfs at {@code directory}.
   *
   * @throws UpcieException if no hugetlbfs is mounted there, or the kernel refuses ({@code EBUSY}
   *     while files in it are open)
   */
  public void unmount(Path directory) {
    Path target = resolved(directory);
    if (mountAt(target).isEmpty()) {
      throw new UpcieException("no hugetlbfs is mounted at " + target);
    }
    try {
      Syscalls.unmount(target.toString());
    } catch (ErrnoException e) {
      throw new UpcieException(
          "cannot unmount "
              + target
              + ": "
              + e.getMessage()
              + (e.is(Errno.EBUSY) ? "; files in it are still open or mapped" : ""),
          e);
    }
  }

  private Optional<HugetlbfsMount> mountAt(Path target) {
    return list().stream().filter(m -> m.mountPoint().equals(target)).findFirst();
  }

  /**
   * The path as {@code /proc/mounts} shows it: absolute, with symbolic links resolved as far as the
   * path exists (a directory still to be created keeps its last names).
   */
  private static Path resolved(Path directory) {
    Path absolute = directory.toAbsolutePath().normalize();
    Path existing = absolute;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return absolute;
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(absolute));
    } catch (IOException e) {
      return absolute;
    }
  }
}
