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
 * <p>Annotate a test method parameter of type {@link dev.upcie.pci.PciDeviceHandle}. The device is
 * picked by address, vendor:device id, class code, or any combination; at least one is required. It
 * is opened before the test and closed after it.
 *
 * <pre>{@code
 * class NvmeRegistersTest {
 *   @Test
 *   void reportsNvme1x(@PciDevice(classCode = "010802") PciDeviceHandle nvme) {
 *     NvmeVersion vs = new NvmeVersion(nvme.bar(0).getIntVolatile(NvmeRegisters.VS.offset()));
 *     assertThat(vs.major()).isEqualTo(1);
 *   }
 * }
 * }</pre>
 *
 * <p>Which device: the backend is the configuration parameter or system property {@value
 * PciDeviceExtension#BACKEND_PROPERTY}, else the environment variable {@code UPCIE_BACKEND}, else
 * {@code sim}. The backends are those {@link dev.upcie.backend.DeviceBackends} finds:
 *
 * <ul>
 *   <li>{@code sim}: a function of the simulated QEMU q35 machine with its NVMe controller and
 *       {@code edu} on {@code vfio-pci} ({@code SimMachine.qemuQ35Vfio()}), fresh for every test;
 *   <li>{@code vfio}: the machine's own function, bound to {@code vfio-pci}, opened through VFIO;
 *   <li>{@code uio}: the machine's own function, bound to {@code uio_pci_generic};
 *   <li>{@code auto}: the first real backend that finds a matching function bound to its driver,
 *       else {@code sim}.
 * </ul>
 *
 * <p>{@value PciDeviceExtension#SYSFS_ROOT_PROPERTY} points the backends at another sysfs tree. The
 * real backends never take a function bound to another driver (a disk the host uses): bind the one
 * meant for the test first. A parameter declared with one backend's handle type fails with a
 * precise message on a backend that opens another kind.
 */
@Target({ElementType.PARAMETER, ElementType.ANNOTATION_TYPE})
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
}
