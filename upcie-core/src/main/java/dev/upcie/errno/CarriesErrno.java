package dev.upcie.errno;

/** A failure that carries the kernel's error number. */
public interface CarriesErrno {

  /** The error number. */
  Errno errno();

  /** True if the failure carried {@code expected}. */
  default boolean is(Errno expected) {
    return errno().number() == expected.number();
  }
}
