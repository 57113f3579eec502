package dev.upcie.dma;

import dev.upcie.support.UpcieException;

/**
 * Memory cannot be made reachable by a device: it lies above the device's DMA mask, outside the
 * IOMMU's apertures, or the IOMMU refused to map it (a locked-memory limit, for instance). The
 * message says which, and what to do.
 */
public class DmaException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception. */
  public DmaException(String message) {
    super(message);
  }

  /** Creates the exception with the failure beneath it. */
  public DmaException(String message, Throwable cause) {
    super(message, cause);
  }
}
