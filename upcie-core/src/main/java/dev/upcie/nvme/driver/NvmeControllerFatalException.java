package dev.upcie.nvme.driver;

/**
 * The controller set Controller Fatal Status (CSTS.CFS): it stopped processing commands and only a
 * reset ({@link NvmeController#reset()}) brings it back. The message says what the driver was doing
 * when it saw the status.
 */
public final class NvmeControllerFatalException extends NvmeException {
  private static final long serialVersionUID = 1L;

  NvmeControllerFatalException(String message) {
    super(message);
  }
}
