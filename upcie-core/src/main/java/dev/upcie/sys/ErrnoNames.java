package dev.upcie.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/** The C library's names and descriptions of errno values, for {@link dev.upcie.errno.Errno}. */
public final class ErrnoNames {
  private ErrnoNames() {}

  /** glibc's symbolic name for {@code errno}, such as {@code ENODEV}, if it knows one. */
  public static Optional<String> name(int errno) {
    return text(LibC.strerrorname(errno));
  }

  /** glibc's description of {@code errno}, such as {@code No such device}, if it knows one. */
  public static Optional<String> description(int errno) {
    return text(LibC.strerrordesc(errno));
  }

  @SuppressWarnings("restricted")
  private static Optional<String> text(MemorySegment pointer) {
    if (pointer.equals(MemorySegment.NULL)) {
      return Optional.empty();
    }
    // The C library returns pointers to static strings; bound the view to read the terminator.
    return Optional.of(pointer.reinterpret(256, Arena.global(), null).getString(0));
  }
}
