package dev.upcie.sys;

import dev.upcie.errno.Errno;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixAbiTest {
  @Test
  void flagValuesMatchTheSystemHeaders(@TempDir Path dir) throws Exception {
    new CHeaderCheck(
            "fcntl.h",
            "unistd.h",
            "sys/mman.h",
            "sys/vfs.h",
            "linux/memfd.h",
            "linux/magic.h",
            "errno.h")
        .expectStruct(Statfs.LAYOUT)
        .expect("HUGETLBFS_MAGIC", Statfs.HUGETLBFS_MAGIC)
        .expect("O_CREAT", Posix.O_CREAT)
        .expect("O_EXCL", Posix.O_EXCL)
        .expect("SEEK_END", Posix.SEEK_END)
        .expect("MFD_CLOEXEC", Posix.MFD_CLOEXEC)
        .expect("MFD_HUGETLB", Posix.MFD_HUGETLB)
        .expect("MFD_HUGE_SHIFT", Posix.MFD_HUGE_SHIFT)
        .expect("MADV_POPULATE_WRITE", Posix.MADV_POPULATE_WRITE)
        .expect("O_RDONLY", Posix.O_RDONLY)
        .expect("O_WRONLY", Posix.O_WRONLY)
        .expect("O_RDWR", Posix.O_RDWR)
        .expect("O_TRUNC", Posix.O_TRUNC)
        .expect("O_NONBLOCK", Posix.O_NONBLOCK)
        .expect("O_CLOEXEC", Posix.O_CLOEXEC)
        .expect("PROT_READ", Posix.PROT_READ)
        .expect("PROT_WRITE", Posix.PROT_WRITE)
        .expect("MAP_SHARED", Posix.MAP_SHARED)
        .expect("EPERM", Errno.EPERM.number())
        .expect("ENOENT", Errno.ENOENT.number())
        .expect("EINTR", Errno.EINTR.number())
        .expect("EIO", Errno.EIO.number())
        .expect("ENXIO", Errno.ENXIO.number())
        .expect("EBADF", Errno.EBADF.number())
        .expect("EAGAIN", Errno.EAGAIN.number())
        .expect("ENOMEM", Errno.ENOMEM.number())
        .expect("EACCES", Errno.EACCES.number())
        .expect("EFAULT", Errno.EFAULT.number())
        .expect("EBUSY", Errno.EBUSY.number())
        .expect("EEXIST", Errno.EEXIST.number())
        .expect("ENODEV", Errno.ENODEV.number())
        .expect("ENOTDIR", Errno.ENOTDIR.number())
        .expect("EISDIR", Errno.EISDIR.number())
        .expect("EINVAL", Errno.EINVAL.number())
        .expect("ENOTTY", Errno.ENOTTY.number())
        .expect("ENOSPC", Errno.ENOSPC.number())
        .expect("EROFS", Errno.EROFS.number())
        .expect("ERANGE", Errno.ERANGE.number())
        .expect("ENOSYS", Errno.ENOSYS.number())
        .expect("EOPNOTSUPP", Errno.EOPNOTSUPP.number())
        .expect("ETIMEDOUT", Errno.ETIMEDOUT.number())
        .verify(dir);
  }
}
