package dev.upcie.sys;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PosixAbiTest {
  @Test
  void flagValuesMatchTheSystemHeaders(@TempDir Path dir) throws Exception {
    new CHeaderCheck("fcntl.h", "sys/mman.h", "errno.h")
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
