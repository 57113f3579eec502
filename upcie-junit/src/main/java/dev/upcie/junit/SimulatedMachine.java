package dev.upcie.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The simulated machine the {@code sim} backend builds for the {@link PciDevice}s of a test class
 * or method: a preset, a recorded machine, or your own; its clock; its NVMe controller's options.
 * The method's annotation wins over its class's, an inner class's over the outer's.
 *
 * <pre>{@code
 * @SimulatedMachine(time = SimulatedMachine.Time.VIRTUAL, readyDelay = "500ms")
 * class SlowControllerTest {
 *   @Test
 *   void waitsForReady(@PciDevice(classCode = "010802") NvmeController nvme) { ... }
 * }
 *
 * @SimulatedMachine(factory = MyBoard.class)        // MyBoard implements SimMachineFactory
 * class MyDeviceTest { ... }
 * }</pre>
 *
 * <p>Without this annotation a test gets {@code qemu-q35-vfio} in real time: QEMU's q35 machine
 * with its NVMe controller at {@code 0000:00:05.0} and {@code edu} at {@code 0000:00:06.0}, both on
 * {@code vfio-pci}, as the QEMU guest tests have them.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Documented
public @interface SimulatedMachine {

  /**
   * A built-in machine: {@code qemu-q35-vfio} (the default) or {@code qemu-q35} (the same with the
   * NVMe controller on the kernel's {@code nvme} driver and {@code edu} on none, as QEMU boots).
   */
  String preset() default "qemu-q35-vfio";

  /**
   * A recorded machine instead of the preset: a file written by {@code SysfsRecording} (a path, or
   * a class path resource). The NVMe controllers and {@code edu} devices on it get models.
   */
  String recording() default "";

  /** Your own machine instead of the preset: a class with a public no-argument constructor. */
  Class<? extends SimMachineFactory> factory() default SimMachineFactory.class;

  /** The machine's clock. */
  Time time() default Time.REAL;

  /**
   * The preset's NVMe namespaces, each a size with an optional LBA size: {@code "64M"}, {@code
   * "1G/4096"}. Empty: QEMU's defaults.
   */
  String[] namespaces() default {};

  /** The preset's NVMe MDTS (a power of two of 4 KiB pages; 0: no limit); -1: QEMU's default. */
  int mdts() default -1;

  /** How long the preset's NVMe controller takes to become ready, such as {@code "500ms"}. */
  String readyDelay() default "";

  /**
   * The most the preset's NVMe controller holds back each I/O completion, by a random delay of its
   * own (such as {@code "50us"}): completions then arrive out of order, as on a real drive. Empty:
   * none, as QEMU.
   */
  String jitter() default "";

  /**
   * The seed of the machine's random choices (the jitter); 0 (the default) for a fresh one each
   * run. A failure names the seed it ran with, and {@code -Dupcie.sim.replay=seed=N,time=virtual}
   * runs the test again with it.
   */
  long seed() default 0;

  /** How the simulated machine keeps time. */
  enum Time {
    /** The wall clock: device work scheduled for later happens on a device thread. */
    REAL,
    /**
     * A virtual clock that moves only when the test or a waiting driver moves it: timeouts of
     * seconds pass in microseconds, and every run happens in the same order.
     */
    VIRTUAL
  }
}
