package dev.upcie.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Inherited;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * How the {@link PciDevice} extension checks and reports the tests of a class or method: the
 * method's annotation wins over its class's, an inner class's over the outer's.
 *
 * <pre>{@code
 * @Test
 * @PciDeviceSettings(checkDmaFaults = false)   // the test provokes DMA faults on purpose
 * void refusesAnUnmappedBuffer(@PciDevice(classCode = "010802") NvmeController nvme) { ... }
 * }</pre>
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Inherited
@Documented
public @interface PciDeviceSettings {

  /**
   * Fail a test that leaves device resources behind: on a real backend an open device node, VFIO
   * file or eventfd, a mapping of one, or locked (pinned) memory; on the simulator a DMA mapping
   * still in its IOMMU.
   */
  boolean checkLeaks() default true;

  /**
   * Fail a test during which a simulated device's DMA was refused (an address outside every
   * mapping, above the DMA mask, or with bus mastering off). A real IOMMU's faults reach only the
   * kernel log, which this check does not read yet.
   */
  boolean checkDmaFaults() default true;

  /** How many of the simulated machine's last trace events a failure shows. */
  int traceEvents() default 40;
}
