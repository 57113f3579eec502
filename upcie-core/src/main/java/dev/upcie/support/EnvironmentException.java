package dev.upcie.support;

/**
 * The machine is not set up for what was asked, and nothing was changed: the IOMMU is off, a kernel
 * module is missing and cannot be loaded, the kernel lacks an interface. The message says what is
 * missing and the command that sets it up; {@code upcie devbind doctor} checks all of it at once.
 */
public class EnvironmentException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message names what is missing and how to set it up. */
  public EnvironmentException(String message) {
    super(message);
  }

  /** Creates the exception with the failure that showed it. */
  public EnvironmentException(String message, Throwable cause) {
    super(message, cause);
  }
}
