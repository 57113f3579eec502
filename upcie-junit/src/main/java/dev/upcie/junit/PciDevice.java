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
 *     NvmeVersion vs = new NvmeVersion(nvme.bar(0).getIntVolatile(NvmeRegisters.VS));
 *     assertThat(vs.major()).isEqualTo(1);
 *   }
 * }
 * }</pre>
 *
 * <p>Which device: the backend is the configuration parameter or system property {@value
 * PciDeviceExtension#BACKEND_PROPERTY}, else the environment variable {@code UPCIE_BACKEND}, else
 * {@code sim}:
 *
 * <ul>
 *   <li>{@code sim}: a function of the simulated QEMU q35 machine ({@link
 *       dev.upcie.sim.SimMachine#qemuQ35()}), fresh for every test;
 *   <li>{@code vfio}: the machine's own function, opened through VFIO; it must be bound to {@code
 *       vfio-pci}, and among several matches the one bound to {@code vfio-pci} is taken. {@value
 *       PciDeviceExtension#SYSFS_ROOT_PROPERTY} points at another sysfs tree;
 *   <li>{@code auto}: {@code vfio} if a matching function is bound to {@code vfio-pci}, else {@code
 *       sim}.
 * </ul>
 *
 * <p>A parameter of type {@link dev.upcie.sim.SimPciDevice} or {@link dev.upcie.vfio.VfioPciDevice}
 * pins the test to that backend; the other backends fail it with a configuration error instead of
 * handing over the wrong kind of device.
 */
@Target({ElementType.PARAMETER, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@ExtendWith(PciDeviceExtension.class)
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
