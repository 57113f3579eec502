package dev.upcie.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Hands a test a PCI device: simulated by default, real when the run asks for it.
 *
 * <p>Annotate a test method parameter, a constructor or lifecycle-method parameter, or a field. The
 * declared type says what the test gets:
 *
 * <ul>
 *   <li>{@link dev.upcie.pci.PciDeviceHandle}: the opened function (or one backend's handle type,
 *       such as {@code SimPciDeviceHandle});
 *   <li>{@link dev.upcie.mmio.Mmio}: its BAR {@link #bar()};
 *   <li>{@link dev.upcie.nvme.driver.NvmeController}: the reference NVMe driver, brought up on it
 *       and shut down after;
 *   <li>a {@link dev.upcie.sim.model.DeviceModel} (or {@code NvmeModel}, {@code EduModel}): the
 *       simulation model behind it, for fault injection; and {@link dev.upcie.sim.SimMachine}: the
 *       simulated machine it is on, for its clock, IOMMU and trace. Only the simulator has these:
 *       on a real backend the test is skipped, saying so.
 * </ul>
 *
 * <pre>{@code
 * class NvmeRegistersTest {
 *   @Test
 *   void reportsNvme1x(@PciDevice(classCode = "010802") Mmio bar0) {
 *     assertThat(NvmeRegisters.VS_MJR.get(bar0.read(NvmeRegisters.VS))).isEqualTo(1);
 *   }
 *
 *   @Test
 *   void identifies(@PciDevice(classCode = "010802") NvmeController nvme) {
 *     assertThat(nvme.identify().modelNumber()).isNotBlank();
 *   }
 * }
 * }</pre>
 *
 * <p><b>Which function.</b> By {@link #address()}, {@link #id()}, {@link #classCode()}, any
 * combination of them, or a {@link #name()} the run's configuration defines. Annotated elements
 * that select the same function in the same {@link #scope()} share one device: a test may ask for
 * the {@code NvmeController} and the {@code NvmeModel} behind it.
 *
 * <p><b>Which backend.</b> In order: the configuration parameter or system property {@value
 * PciDeviceExtension#BACKEND_PROPERTY}, the environment variable {@code UPCIE_BACKEND}, this
 * annotation's {@link #backend()}, and {@code sim}. So one test class runs on the simulator in CI
 * and on QEMU or hardware when the run sets {@code upcie.backend=vfio}. A backend that cannot serve
 * (no {@code /dev/vfio}, no such function, not root) skips the test with its reason; {@code auto}
 * takes the first backend that can and says which in the test's report entries. To run a test on
 * every backend, see {@link OnEveryBackend}.
 *
 * <p><b>How long.</b> {@link Scope#TEST} (the default) opens the device for one test and closes it
 * after; {@link Scope#CLASS} for all tests of a class; {@link Scope#GLOBAL} once for the whole run.
 * A static field must say {@code CLASS} or {@code GLOBAL}. Devices of one scope share one simulated
 * machine; {@link SimulatedMachine} configures it.
 *
 * <p>The real backends never take a function bound to another driver (a disk the host uses): bind
 * the one meant for the test first ({@code ./upcie devbind bind}).
 */
@Target({ElementType.PARAMETER, ElementType.FIELD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(PciDeviceExtension.class)
@SuppressWarnings(
    "exports") // the extension is package-private; JUnit, to which it is open, makes it
public @interface PciDevice {

  /** The function's address, {@code dddd:bb:dd.f} or {@code bb:dd.f}; empty for any. */
  String address() default "";

  /** The vendor:device id, such as {@code 1b36:0010}; empty for any. */
  String id() default "";

  /**
   * The class code or a prefix of it: {@code 010802} (NVMe), {@code 0108} (any non-volatile memory
   * controller), {@code 02} (any network controller); empty for any.
   */
  String classCode() default "";

  /**
   * A device the run's configuration names: the configuration parameter or system property {@code
   * upcie.device.<name>} holds its selection, as {@code address=0000:00:05.0}, {@code
   * id=1b36:0010}, {@code class=010802} or several of them separated by commas (a bare address or
   * id is understood too). Combined with the other attributes, all must match.
   */
  String name() default "";

  /**
   * The backend to use unless the run overrides it: {@code sim}, {@code vfio}, {@code uio}, {@code
   * auto}, or the name of your own backend. Empty (the default) means {@code sim}.
   */
  String backend() default "";

  /** How long the device stays open, and so which tests share it. */
  Scope scope() default Scope.TEST;

  /** The BAR an element of type {@link dev.upcie.mmio.Mmio} gets. */
  int bar() default 0;

  /** How long a device stays open. */
  enum Scope {
    /** Opened for one test, closed after it: the test's own, fresh device. */
    TEST,
    /**
     * Opened once for a test class (the innermost, for {@code @Nested} classes), closed after its
     * last test.
     */
    CLASS,
    /**
     * Opened once for the run, closed at its end: shared by every class that selects it alike.
     * While parallel tests share a real device, each holds it in turn (see {@link
     * PciDeviceExtension}).
     */
    GLOBAL
  }
}
