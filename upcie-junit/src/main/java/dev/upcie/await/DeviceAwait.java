package dev.upcie.await;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.register.Field;
import dev.upcie.register.Register;
import dev.upcie.register.RegisterDump;
import dev.upcie.register.RegisterValue;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.awaitility.core.ConditionTimeoutException;

/**
 * Waits, through Awaitility, for a device to reach a state: a register field to take a value, or an
 * assertion to pass. On timeout it fails with an {@link AssertionError} that says what was awaited,
 * the last value seen, and a dump of the device's registers at that moment.
 *
 * <pre>{@code
 * bar0.write(NvmeRegisters.CC, cc);                      // CC.EN = 1
 * DeviceAwait.on(bar0).atMost(Duration.ofSeconds(8)).until(NvmeRegisters.CSTS_RDY, 1);
 * // java.lang.AssertionError: CSTS.RDY of BAR0 of 0000:00:05.0 did not become 1 within 8 s: the
 * //   last of 7702 reads gave 0, in CSTS = 0x00000000 (rdy=0 cfs=0 shst=0 nssro=0 pp=0)
 * // Registers at the timeout:
 * // cap     0x004018200f0107ff  mqes=2047 cqr=1 ams=0 to=15 ...  (ready timeout 7500 ms)
 * // ...
 * // cc      0x00460001          en=1 css=0 mps=0 ams=0 shn=0 iosqes=6 iocqes=4
 * // csts    0x00000000          rdy=0 cfs=0 shst=0 nssro=0 pp=0
 *
 * DeviceAwait.on(eduBar0)
 *     .dumping(() -> RegisterDump.read(List.of(EduRegisters.STATUS), eduBar0::read, List.of()))
 *     .untilAsserted(() -> assertThat(interrupts).isNotEmpty());
 * }</pre>
 *
 * <p>The default dump is the NVMe controller's ({@link NvmeRegisters#dump(Mmio)}) when the register
 * awaited is an NVMe register, else that register alone; {@link #dumping} chooses another. Polls on
 * the calling thread (so a confined buffer or handle may be used in the condition), every
 * millisecond by default, for at most 10 seconds by default. A simulated machine on virtual time
 * moves only when its clock is advanced, not while a test waits.
 *
 * <p>Needs Awaitility 4.3 or later on the test path; upcie-junit does not bring it (its dependency
 * is {@code provided}).
 */
public final class DeviceAwait {
  private static final Duration DEFAULT_AT_MOST = Duration.ofSeconds(10);
  private static final Duration DEFAULT_POLL_INTERVAL = Duration.ofMillis(1);

  private final Mmio bar;
  private final Duration atMost;
  private final Duration pollInterval;
  private final Supplier<RegisterDump> dump; // null: the default for what is awaited

  private DeviceAwait(
      Mmio bar, Duration atMost, Duration pollInterval, Supplier<RegisterDump> dump) {
    this.bar = bar;
    this.atMost = atMost;
    this.pollInterval = pollInterval;
    this.dump = dump;
  }

  /** Waits on the registers of {@code bar}, such as an NVMe controller's BAR0. */
  public static DeviceAwait on(Mmio bar) {
    return new DeviceAwait(
        Objects.requireNonNull(bar, "bar"), DEFAULT_AT_MOST, DEFAULT_POLL_INTERVAL, null);
  }

  /** How long to wait at most: 10 seconds unless set. */
  public DeviceAwait atMost(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("atMost must be positive: " + timeout);
    }
    return new DeviceAwait(bar, timeout, pollInterval, dump);
  }

  /** How long to pause between reads: 1 millisecond unless set. */
  public DeviceAwait pollInterval(Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("pollInterval must be positive: " + interval);
    }
    return new DeviceAwait(bar, atMost, interval, dump);
  }

  /** The registers a timeout shows, read when it happens. */
  public DeviceAwait dumping(Supplier<RegisterDump> registers) {
    return new DeviceAwait(
        bar, atMost, pollInterval, Objects.requireNonNull(registers, "registers"));
  }

  /**
   * Reads {@code field}'s register until the field is {@code expected}; returns that read.
   *
   * @throws AssertionError if it is not within {@link #atMost}
   */
  public RegisterValue until(Field field, long expected) {
    Register register = field.register();
    Poll poll = new Poll(register);
    try {
      factory(field + " to be " + expected)
          .until(() -> {
            poll.read();
            return field.get(poll.last.value()) == expected;
          });
      return poll.last;
    } catch (ConditionTimeoutException e) {
      throw timeout(
          "%s of %s did not become %s within %s: the last of %d reads gave %s, in %s"
              .formatted(
                  name(field),
                  bar.name(),
                  expected,
                  text(atMost),
                  poll.reads,
                  poll.last == null ? "nothing" : field.get(poll.last.value()),
                  poll.describeLast(field)),
          register,
          e);
    }
  }

  /**
   * Reads {@code register} until {@code assertion} accepts its value; returns that read.
   *
   * <pre>{@code
   * DeviceAwait.on(bar0).untilAsserted(CSTS, csts -> assertThat(csts).hasField(CSTS_SHST, 2));
   * }</pre>
   *
   * @throws AssertionError if it does not within {@link #atMost}, with the last assertion's failure
   *     as its cause
   */
  public RegisterValue untilAsserted(Register register, Consumer<RegisterValue> assertion) {
    Poll poll = new Poll(register);
    try {
      factory(register.name() + " to satisfy an assertion")
          .untilAsserted(() -> {
            poll.read();
            assertion.accept(poll.last);
          });
      return poll.last;
    } catch (ConditionTimeoutException e) {
      throw timeout(
          "%s of %s did not satisfy the assertion within %s: the last of %d reads gave %s, which"
                  .formatted(
                      register.name(),
                      bar.name(),
                      text(atMost),
                      poll.reads,
                      poll.describeLast(null))
              + failed(e),
          register,
          e);
    }
  }

  /**
   * Runs {@code assertion} (AssertJ assertions, say) until it returns instead of throwing an {@link
   * AssertionError}; any other exception ends the wait at once.
   *
   * @throws AssertionError if it does not within {@link #atMost}, with the last assertion's failure
   *     as its cause
   */
  public void untilAsserted(Runnable assertion) {
    try {
      factory("an assertion on " + bar.name()).untilAsserted(assertion::run);
    } catch (ConditionTimeoutException e) {
      throw timeout(
          "An assertion on %s did not pass within %s: it".formatted(bar.name(), text(atMost))
              + failed(e),
          null,
          e);
    }
  }

  private ConditionFactory factory(String alias) {
    return Awaitility.await(alias)
        .atMost(atMost)
        .pollDelay(Duration.ZERO)
        .pollInterval(pollInterval)
        .pollInSameThread();
  }

  // " failed last with:\n  <message>", from the cause Awaitility kept.
  private static String failed(ConditionTimeoutException e) {
    Throwable last = e.getCause();
    return last == null
        ? " never failed, yet never passed"
        : " failed last with:%n  %s"
            .formatted(
                String.valueOf(last.getMessage())
                    .strip()
                    .lines()
                    .map(String::stripTrailing)
                    .collect(Collectors.joining(System.lineSeparator() + "  ")));
  }

  private AssertionError timeout(String what, Register awaited, ConditionTimeoutException e) {
    String registers;
    try {
      RegisterDump shown = dumpFor(awaited);
      registers =
          shown == null
              ? ""
              : "%nRegisters at the timeout:%n%s".formatted(shown.toString().stripTrailing());
    } catch (RuntimeException unreadable) {
      registers = "%nThe registers could not be read at the timeout: %s".formatted(unreadable);
    }
    AssertionError error = new AssertionError(what + registers);
    // The last assertion failure says where the condition was written; else Awaitility's timeout.
    error.initCause(e.getCause() != null ? e.getCause() : e);
    return error;
  }

  private RegisterDump dumpFor(Register awaited) {
    if (dump != null) {
      return dump.get();
    }
    if (awaited == null) {
      return null;
    }
    if (NvmeRegisters.ALL.contains(awaited)) {
      return NvmeRegisters.dump(bar);
    }
    return RegisterDump.read(List.of(awaited), bar::read, List.of());
  }

  private static String name(Field field) {
    return field.register().name() + "." + field.name();
  }

  // "200 ms", "10 s", "1.5 s".
  private static String text(Duration duration) {
    long millis = duration.toMillis();
    if (millis < 1000) {
      return millis + " ms";
    }
    return millis % 1000 == 0 ? millis / 1000 + " s" : millis / 1000.0 + " s";
  }

  /** The reads of one wait: how many, and the last. */
  private final class Poll {
    private final Register register;
    private RegisterValue last;
    private int reads;

    Poll(Register register) {
      this.register = register;
    }

    void read() {
      last = bar.readValue(register);
      reads++;
    }

    // "CSTS = 0x00000000 (rdy=0 cfs=0 shst=0 nssro=0 pp=0)"
    String describeLast(Field field) {
      if (last == null) {
        return register.name() + " never read";
      }
      String fields =
          NvmeRegisters.ALL.contains(register)
              ? NvmeRegisters.dump(List.of(last)).decode(last)
              : field == null ? "" : RegisterDump.of(List.of(last), List.of(field)).decode(last);
      return last + (fields.isEmpty() ? "" : " (" + fields + ")");
    }
  }
}
