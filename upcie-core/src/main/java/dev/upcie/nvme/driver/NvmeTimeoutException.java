package dev.upcie.nvme.driver;

/**
 * The controller did not do something in time: complete a command, or become ready or disabled. The
 * message names what was awaited, on which queue, and for how long.
 *
 * <p>A command that timed out may still be running: the controller may write its buffer later.
 * Reset the controller ({@link NvmeController#reset()}) or close it before freeing that buffer.
 */
public final class NvmeTimeoutException extends NvmeException {
  private static final long serialVersionUID = 1L;

  NvmeTimeoutException(String message) {
    super(message);
  }
}
