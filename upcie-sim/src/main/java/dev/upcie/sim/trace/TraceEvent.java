package dev.upcie.sim.trace;

/**
 * One thing that happened on a simulated device: a register access, a DMA access or fault, an
 * interrupt, a command or completion, or a note from the model.
 *
 * @param nanos when, on the machine's clock (virtual or real time since the machine started)
 * @param kind what
 * @param source where: the BAR, the device; for a {@link Kind#NOTE} the note itself, and for a
 *     {@link Kind#COMMAND} or {@link Kind#COMPLETION} its decoded text
 * @param address the register offset or device address; 0 where there is none
 * @param value the value read or written, the vector, or the DMA direction's length; 0 where none
 * @param size the access width or DMA length in bytes; 0 where there is none
 */
public record TraceEvent(
    long nanos, TraceEvent.Kind kind, String source, long address, long value, int size) {

  /** The kinds of event. */
  public enum Kind {
    /** The host read a register. */
    REGISTER_READ,
    /** The host wrote a register. */
    REGISTER_WRITE,
    /** The host's access matched no register the device decodes at that width; dropped. */
    REGISTER_UNDECODED,
    /** The device read host memory. */
    DMA_READ,
    /** The device wrote host memory. */
    DMA_WRITE,
    /** A device access to host memory was refused; the machine's fault log has the reason. */
    DMA_FAULT,
    /** The device signalled an interrupt that reached the driver. */
    INTERRUPT,
    /** The device signalled an interrupt that nothing received (not enabled, or masked). */
    INTERRUPT_LOST,
    /** The device took a command from the driver; the source says which, decoded. */
    COMMAND,
    /** The device completed a command; the source says how, decoded. */
    COMPLETION,
    /** The model said something: a clamped address, a fatal error, a removal. */
    NOTE
  }

  /** One line: {@code 12.000100 ms REGISTER_WRITE BAR0 of 0000:00:06.0 0x98 = 0x5 (8)}. */
  @Override
  public String toString() {
    String when = String.format("%12.6f ms  ", nanos / 1e6);
    return when
        + switch (kind) {
          case REGISTER_READ, REGISTER_WRITE, REGISTER_UNDECODED ->
              String.format(
                  "%-18s %s  0x%x %s 0x%x (%d)",
                  kind, source, address, kind == Kind.REGISTER_READ ? "->" : "=", value, size);
          case DMA_READ, DMA_WRITE, DMA_FAULT ->
              String.format("%-18s %s  0x%x, %d bytes", kind, source, address, size);
          case INTERRUPT, INTERRUPT_LOST ->
              String.format("%-18s %s  vector %d", kind, source, value);
          case COMMAND, COMPLETION, NOTE -> String.format("%-18s %s", kind, source);
        };
  }
}
