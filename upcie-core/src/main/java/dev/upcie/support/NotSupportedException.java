package dev.upcie.support;

/**
 * The device, its backend or the kernel cannot do what was asked: a reset of a function without a
 * reset method, an interrupt mode the function lacks, a kernel interface this kernel was built
 * without. Nothing was changed; the message says what is possible instead.
 */
public class NotSupportedException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message names what is not supported, where, and the way out. */
  public NotSupportedException(String message) {
    super(message);
  }
}
