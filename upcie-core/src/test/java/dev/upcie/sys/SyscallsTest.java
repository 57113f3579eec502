package dev.upcie.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.errno.Errno;
import dev.upcie.errno.ErrnoException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SyscallsTest {
  @TempDir Path dir;

  @Test
  void openOfAMissingFileNamesTheCallThePathAndTheErrno() {
    String missing = dir.resolve("absent").toString();

    assertThatThrownBy(() -> Syscalls.open(missing, Posix.O_RDONLY))
        .isInstanceOfSatisfying(
            ErrnoException.class,
            e -> {
              assertThat(e.is(Errno.ENOENT)).isTrue();
              assertThat(e.call()).isEqualTo("open");
              assertThat(e.target()).isEqualTo(missing);
            })
        .hasMessage("open(" + missing + "): ENOENT (No such file or directory)");
  }

  @Test
  void writeThenPreadRoundTripsThroughTheKernel() throws Exception {
    Path file = dir.resolve("data");
    Files.createFile(file);
    try (NativeFd fd = Syscalls.open(file.toString(), Posix.O_RDWR);
        Arena arena = Arena.ofConfined()) {
      assertThat(Syscalls.write(fd, arena.allocateFrom("hello, device"))).isEqualTo(14);
      MemorySegment buffer = arena.allocate(7);
      assertThat(Syscalls.pread(fd, buffer.asSlice(0, 6), 7)).isEqualTo(6);
      assertThat(buffer.getString(0)).isEqualTo("device");
      assertThat(Syscalls.pwrite(fd, arena.allocateFrom(ValueLayout.JAVA_BYTE, (byte) 'H'), 0))
          .isEqualTo(1);
    }
    assertThat(Files.readString(file, StandardCharsets.UTF_8)).startsWith("Hello, device");
  }

  @Test
  void readAtEndOfFileReturnsZero() throws Exception {
    Path file = Files.createFile(dir.resolve("empty"));
    try (NativeFd fd = Syscalls.open(file.toString(), Posix.O_RDONLY);
        Arena arena = Arena.ofConfined()) {
      assertThat(Syscalls.read(fd, arena.allocate(16))).isZero();
    }
  }

  @Test
  void ioctlOnARegularFileFailsWithEnottyAndTheRequestName() throws Exception {
    Path file = Files.createFile(dir.resolve("plain"));
    try (NativeFd fd = Syscalls.open(file.toString(), Posix.O_RDONLY)) {
      assertThatThrownBy(() -> Syscalls.ioctl(fd, new Ioctl("VFIO_GET_API_VERSION", 0x3b64)))
          .isInstanceOfSatisfying(
              ErrnoException.class, e -> assertThat(e.is(Errno.ENOTTY)).isTrue())
          .hasMessageContaining("ioctl VFIO_GET_API_VERSION(" + file + ")");
    }
  }

  @Test
  void mmapSharesMemoryWithTheFileAndUnmapsWithItsArena() throws Exception {
    Path file = dir.resolve("mapped");
    Files.write(file, new byte[8192]);
    MemorySegment mapping;
    try (NativeFd fd = Syscalls.open(file.toString(), Posix.O_RDWR);
        Arena arena = Arena.ofShared()) {
      mapping = Syscalls.mmap(fd, 4096, 4096, arena);
      assertThat(mapping.byteSize()).isEqualTo(4096);
      mapping.set(ValueLayout.JAVA_INT, 0, 0x11223344);
      MemorySegment readBack = arena.allocate(4);
      Syscalls.pread(fd, readBack, 4096);
      assertThat(readBack.get(ValueLayout.JAVA_INT, 0)).isEqualTo(0x11223344);
      assertThatThrownBy(() -> mapping.get(ValueLayout.JAVA_INT, 4096))
          .isInstanceOf(IndexOutOfBoundsException.class);
    }
    assertThatThrownBy(() -> mapping.get(ValueLayout.JAVA_INT, 0))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aWritableMappingOfAReadOnlyDescriptorIsRefusedWithTheErrno() throws Exception {
    Path file = Files.createFile(dir.resolve("read-only"));
    try (NativeFd fd = Syscalls.open(file.toString(), Posix.O_RDONLY);
        Arena arena = Arena.ofConfined()) {
      assertThatThrownBy(() -> Syscalls.mmap(fd, 0, 4096, arena))
          .isInstanceOfSatisfying(
              ErrnoException.class, e -> assertThat(e.is(Errno.EACCES)).isTrue())
          .hasMessageStartingWith("mmap(" + file);
    }
  }

  @Test
  void aClosedDescriptorCannotBeUsedAndClosingTwiceIsHarmless() throws Exception {
    Path file = Files.createFile(dir.resolve("closing"));
    NativeFd fd = Syscalls.open(file.toString(), Posix.O_RDONLY);
    fd.close();
    fd.close();

    assertThat(fd.isOpen()).isFalse();
    try (Arena arena = Arena.ofConfined()) {
      assertThatThrownBy(() -> Syscalls.read(fd, arena.allocate(1)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining(file + " is closed");
    }
  }

  @Test
  void aCloseDuringACallWaitsForTheCallSoTheNumberIsNeverReusedUnderIt() throws Exception {
    Path file = Files.createFile(dir.resolve("in-use"));
    NativeFd fd = Syscalls.open(file.toString(), Posix.O_RDONLY);
    int number = fd.acquire();
    Path entry = Path.of("/proc/self/fd/" + number);

    fd.close();
    assertThat(fd.isOpen()).isFalse();
    assertThat(Files.isSymbolicLink(entry)).as("still open while a call uses it").isTrue();
    assertThatThrownBy(fd::acquire).isInstanceOf(IllegalStateException.class);

    fd.release();
    assertThat(Files.exists(entry, LinkOption.NOFOLLOW_LINKS))
        .as("closed when the last call ends")
        .isFalse();
  }

  @Test
  void errnoNamesComeFromTheTableOrTheCLibrary() {
    assertThat(Errno.of(16)).isSameAs(Errno.EBUSY).hasToString("EBUSY (Device or resource busy)");
    Errno eproto = Errno.of(71);
    assertThat(eproto.name()).isEqualTo("EPROTO");
    assertThat(eproto.description()).isEqualTo("Protocol error");
    assertThat(Errno.of(100000).name()).isEqualTo("E100000");
  }
}
