package dev.upcie.interrupt;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A function's interrupts: how many vectors each mode offers, enabling some of them, and waiting
 * for one to fire.
 *
 * <p>On VFIO every vector is an eventfd the kernel signals ({@code VFIO_DEVICE_SET_IRQS}); on UIO
 * the one INTx vector is {@code /dev/uioN}; the simulator raises vectors in process. The calls are
 * the same everywhere.
 *
 * <pre>{@code
 * Interrupts irqs = device.interrupts();
 * irqs.enable(InterruptMode.MSIX, 1);
 * bar0.putIntVolatile(doorbell, tail);                 // the device will complete and signal
 * long count = irqs.await(0, Duration.ofSeconds(1));   // 0: timed out
 * irqs.disable();
 * }</pre>
 *
 * <p>INTx is level-triggered: after it fires the line stays masked until the driver has quietened
 * the device (acknowledged its interrupt) and calls {@link #unmask(int)}. MSI and MSI-X need no
 * unmasking. {@link #await} and {@link #drain} allocate nothing; one thread at a time may wait on a
 * vector. Closing the device disables its interrupts.
 */
public interface Interrupts {

  /** How many vectors the function offers in {@code mode}; 0 if it does not support the mode. */
  int vectors(InterruptMode mode);

  /** The modes the function supports, MSI-X first, then MSI, then INTx. */
  default List<InterruptMode> modes() {
    List<InterruptMode> modes = new ArrayList<>();
    for (InterruptMode mode : List.of(InterruptMode.MSIX, InterruptMode.MSI, InterruptMode.INTX)) {
      if (vectors(mode) > 0) {
        modes.add(mode);
      }
    }
    return modes;
  }

  /**
   * Enables vectors {@code 0} to {@code count - 1} of {@code mode}, replacing whatever was enabled.
   * Signals that arrived before are not reported.
   *
   * @throws dev.upcie.support.NotSupportedException if the function offers fewer vectors in that
   *     mode (none, for a mode it lacks), naming the modes it has
   */
  void enable(InterruptMode mode, int count);

  /** The enabled mode, empty when interrupts are disabled. */
  Optional<InterruptMode> mode();

  /** How many vectors are enabled; 0 when disabled. */
  int enabledVectors();

  /**
   * Waits up to {@code timeoutNanos} for {@code vector} to fire.
   *
   * @return how many times it fired since it was last awaited or drained (at least 1), or 0 if the
   *     wait timed out
   * @throws IllegalStateException if the vector is not enabled, or the device is closed
   */
  long await(int vector, long timeoutNanos);

  /** Waits up to {@code timeout} for {@code vector} to fire; see {@link #await(int, long)}. */
  default long await(int vector, Duration timeout) {
    return await(vector, timeout.toNanos());
  }

  /** How many times {@code vector} fired since it was last awaited or drained, without waiting. */
  long drain(int vector);

  /**
   * Re-enables an INTx line the kernel masked when it fired, once the device has been quietened;
   * does nothing for MSI and MSI-X, which are not masked.
   */
  void unmask(int vector);

  /** Disables every vector; later signals are lost. Harmless when already disabled. */
  void disable();

  /**
   * Checks a request to enable {@code count} vectors of {@code mode} of {@code irqs}: for
   * implementations.
   *
   * @throws dev.upcie.support.NotSupportedException if the function offers fewer, naming what it
   *     offers
   */
  static void checkRequest(String name, Interrupts irqs, InterruptMode mode, int count) {
    if (count < 1) {
      throw new IllegalArgumentException("enable at least one vector, not " + count);
    }
    int offered = irqs.vectors(mode);
    if (count <= offered) {
      return;
    }
    List<String> modes = new ArrayList<>();
    for (InterruptMode m : irqs.modes()) {
      modes.add(m + " (" + irqs.vectors(m) + (irqs.vectors(m) == 1 ? " vector)" : " vectors)"));
    }
    throw new dev.upcie.support.NotSupportedException(
        (offered == 0
                ? name + " offers no " + mode + " interrupts"
                : name + " offers " + offered + " " + mode + " vectors, not " + count)
            + "; it offers "
            + (modes.isEmpty() ? "no interrupts at all" : String.join(", ", modes)));
  }

  /**
   * Checks that {@code vector} is one of the {@code enabled} vectors of {@code name}: for
   * implementations, so every backend refuses a bad vector with the same words.
   *
   * @param enabled how many vectors are enabled, 0 if interrupts are not
   * @throws IllegalStateException if interrupts are not enabled
   * @throws IndexOutOfBoundsException if {@code vector} is not enabled
   */
  static void checkVector(String name, int enabled, int vector) {
    if (enabled == 0) {
      throw new IllegalStateException(
          "interrupts of " + name + " are not enabled: call enable(mode, count) first");
    }
    if (vector < 0 || vector >= enabled) {
      throw new IndexOutOfBoundsException(
          "vector "
              + vector
              + " of "
              + name
              + " is not enabled (vectors 0 to "
              + (enabled - 1)
              + " are)");
    }
  }
}
