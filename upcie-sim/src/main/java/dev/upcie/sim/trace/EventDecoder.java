package dev.upcie.sim.trace;

/**
 * Turns a device's own trace events into text when the trace is read, so that recording stays free
 * of allocation: the model records packed numbers with a long-lived decoder as the source, and the
 * decoder says what they meant. The NVMe model records its commands and completions so.
 *
 * <pre>{@code
 * trace.record(TraceEvent.Kind.COMMAND, queueDecoder, cdw10and11, opcodeAndId, cdw12);
 * // read back as: "SQ1 Read cid 7 nsid 1 slba 0x10 blocks 8"
 * }</pre>
 */
@FunctionalInterface
public interface EventDecoder {

  /** What the event recorded with this decoder as its source means, as one line of text. */
  String describe(TraceEvent.Kind kind, long address, long value, int size);
}
