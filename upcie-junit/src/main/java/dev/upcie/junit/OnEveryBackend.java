package dev.upcie.junit;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.junit.jupiter.api.TestTemplate;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs a test once per backend, instead of {@code @Test}: each run's {@link PciDevice}s use that
 * backend, whatever the annotation or the run's settings say. A backend that cannot serve here is
 * reported as a skipped run, with its reason.
 *
 * <pre>{@code
 * @OnEveryBackend
 * void readsTheVersion(@PciDevice(classCode = "010802") Mmio bar0) {
 *   assertThat(NvmeRegisters.VS_MJR.get(bar0.read(NvmeRegisters.VS))).isEqualTo(1);
 * }
 * }</pre>
 *
 * <p>On a laptop this runs {@code [sim]} and skips {@code [vfio]} and {@code [uio]} ("no function
 * matching class 0x010802 is bound to vfio-pci ..."); on a machine with the controller bound to
 * {@code vfio-pci} it runs there as well.
 */
@Target({ElementType.METHOD, ElementType.ANNOTATION_TYPE})
@Retention(RetentionPolicy.RUNTIME)
@Documented
@TestTemplate
@ExtendWith(EveryBackend.class)
@SuppressWarnings(
    "exports") // the provider is package-private; JUnit, to which it is open, makes it
public @interface OnEveryBackend {

  /** The backends to run on, in this order; empty (the default) for every backend found. */
  String[] value() default {};
}
