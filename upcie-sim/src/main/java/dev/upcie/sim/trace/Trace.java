package dev.upcie.sim.trace;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * A bounded record of what a simulated machine's devices did: register accesses, DMA, interrupts,
 * the commands and completions a model decodes ({@link EventDecoder}) and the models' notes, oldest
 * first, the oldest dropped once it is full. Printed as text when a test fails, it shows what the
 * driver asked of the device and what the device did.
 *
 * <p>Recording allocates nothing: events are kept in columns of primitives and turned into {@link
 * TraceEvent}s only when read. Thread-safe.
 *
 * <pre>{@code
 * machine.trace().events().stream().filter(e -> e.kind() == TraceEvent.Kind.DMA_FAULT).toList();
 * System.out.println(machine.trace());
 * }</pre>
 */
public final class Trace {
  /** How many events a machine's trace keeps unless told otherwise. */
  public static final int DEFAULT_CAPACITY = 4096;

  private static final TraceEvent.Kind[] KINDS = TraceEvent.Kind.values();

  private final LongSupplier clock;
  private final int capacity;
  // Made at the first event, so a machine nobody traces costs nothing; then never again.
  private long[] nanos;
  private byte[] kinds;
  private Object[] sources;
  private long[] addresses;
  private long[] values;
  private int[] sizes;
  private long recorded;

  /**
   * A trace keeping the last {@code capacity} events, timed by {@code clock} (nanoseconds).
   *
   * @throws IllegalArgumentException unless the capacity is positive
   */
  public Trace(int capacity, LongSupplier clock) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("a trace keeps at least one event, not " + capacity);
    }
    this.clock = clock;
    this.capacity = capacity;
  }

  /**
   * Records an event now. {@code source} is kept as given and turned into text only when read: pass
   * a long-lived object (a name), not a string built for the call.
   */
  public synchronized void record(
      TraceEvent.Kind kind, Object source, long address, long value, int size) {
    if (nanos == null) {
      nanos = new long[capacity];
      kinds = new byte[capacity];
      sources = new Object[capacity];
      addresses = new long[capacity];
      values = new long[capacity];
      sizes = new int[capacity];
    }
    int slot = (int) (recorded % capacity);
    nanos[slot] = clock.getAsLong();
    kinds[slot] = (byte) kind.ordinal();
    sources[slot] = source;
    addresses[slot] = address;
    values[slot] = value;
    sizes[slot] = size;
    recorded++;
  }

  /** Records a note: a model's remark, such as a clamped address or a fatal error. */
  public void note(String text) {
    record(TraceEvent.Kind.NOTE, text, 0, 0, 0);
  }

  /** How many events it keeps. */
  public int capacity() {
    return capacity;
  }

  /** How many events were recorded in all, including those since dropped. */
  public synchronized long recorded() {
    return recorded;
  }

  /** The events kept, oldest first. */
  public synchronized List<TraceEvent> events() {
    int kept = (int) Math.min(recorded, capacity);
    List<TraceEvent> events = new ArrayList<>(kept);
    for (long i = recorded - kept; i < recorded; i++) {
      int slot = (int) (i % capacity);
      events.add(
          new TraceEvent(
              nanos[slot],
              KINDS[kinds[slot]],
              sources[slot] instanceof EventDecoder decoder
                  ? decoder.describe(KINDS[kinds[slot]], addresses[slot], values[slot], sizes[slot])
                  : String.valueOf(sources[slot]),
              addresses[slot],
              values[slot],
              sizes[slot]));
    }
    return events;
  }

  /** Forgets every event. */
  public synchronized void clear() {
    recorded = 0;
    if (sources != null) {
      Arrays.fill(sources, null);
    }
  }

  /** The events kept, one per line, with how many were dropped before them. */
  @Override
  public String toString() {
    List<TraceEvent> events;
    long dropped;
    synchronized (this) {
      events = events();
      dropped = recorded - events.size();
    }
    StringBuilder text = new StringBuilder();
    if (dropped > 0) {
      text.append("(").append(dropped).append(" earlier events dropped)\n");
    }
    for (TraceEvent event : events) {
      text.append(event).append('\n');
    }
    return text.toString();
  }
}
