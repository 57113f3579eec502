package dev.upcie.nvme.driver;

import dev.upcie.support.UpcieException;

/**
 * What the NVMe driver throws when the controller, not the caller, is at fault: a command completed
 * with an error status, nothing completed in time, or the controller reported a fatal status.
 * Mistakes of the caller (an LBA range outside the namespace, a buffer too small, a closed queue
 * pair) are {@link IllegalArgumentException}s and {@link IllegalStateException}s thrown before
 * anything reaches the device.
 */
public abstract sealed class NvmeException extends UpcieException
    permits NvmeCommandException, NvmeTimeoutException, NvmeControllerFatalException {
  private static final long serialVersionUID = 1L;

  NvmeException(String message) {
    super(message);
  }
}
