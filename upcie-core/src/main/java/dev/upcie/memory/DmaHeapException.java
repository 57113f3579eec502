package dev.upcie.memory;

import dev.upcie.support.UpcieException;

/**
 * A DMA heap refused: exhausted, or misused (double free, a buffer from another heap, a size or
 * alignment that cannot be honoured). The heap is unchanged when this is thrown.
 */
public final class DmaHeapException extends UpcieException {
  private static final long serialVersionUID = 1L;

  /** Creates the exception; the message says what was asked and what the heap has. */
  public DmaHeapException(String message) {
    super(message);
  }
}
