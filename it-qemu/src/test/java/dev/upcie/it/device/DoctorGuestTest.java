package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.doctor.Diagnosis;
import dev.upcie.doctor.Doctor;
import dev.upcie.doctor.Finding;
import dev.upcie.host.Host;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The doctor against the guests' real kernels: with intel-iommu (the vfio guest) it finds the IOMMU
 * on, and without (the uio guest, booted with {@code intel_iommu=off}) it finds it off and names
 * the parameter that switched it off; in both, with the drivers the suite loaded and the hugepages
 * it reserved at boot, nothing is a problem.
 *
 * <p>Guest only: on the host the answers depend on whatever machine runs the build.
 */
@Tag(GuestRun.GUEST_ONLY)
public class DoctorGuestTest {
  private static Diagnosis diagnosis;

  @BeforeAll
  static void examineTheGuest() {
    diagnosis = Doctor.of(Host.system()).examine();
    // In the guest's report, so a failure here shows the whole diagnosis beside it.
    diagnosis
        .findings()
        .forEach(f -> System.out.println("doctor: " + f.status() + " " + f.id() + " " + f.found()));
  }

  private static Finding finding(String id) {
    return diagnosis.find(id).orElseThrow(() -> new AssertionError("no finding " + id));
  }

  @Test
  void theIommuFindingMatchesHowTheGuestWasBooted() {
    Finding iommu = finding("iommu");

    if (GuestRun.backend().equals("vfio")) {
      assertThat(iommu.status()).as(iommu.found()).isEqualTo(Finding.Status.OK);
      assertThat(iommu.found()).startsWith("IOMMU on").contains("intel_iommu=on");
    } else {
      assertThat(iommu.status())
          .as("no IOMMU, but uio stands in: %s", iommu.found())
          .isEqualTo(Finding.Status.WARNING);
      assertThat(iommu.found()).startsWith("no IOMMU").contains("intel_iommu=off");
    }
  }

  @Test
  void theDriverTheSuiteLoadedIsPresent() {
    Finding driver = finding(GuestRun.backend().equals("vfio") ? "vfio-modules" : "uio-modules");

    assertThat(driver.status()).as(driver.found()).isEqualTo(Finding.Status.OK);
    assertThat(finding("noiommu").status()).isEqualTo(Finding.Status.OK);
  }

  @Test
  void aGuestSetUpForItsBackendHasNoProblem() {
    assertThat(diagnosis.attention())
        .as("findings that are problems")
        .noneMatch(f -> f.status() == Finding.Status.PROBLEM);
    assertThat(finding("hugepages").status())
        .as("the guest reserved hugepages at boot: %s", finding("hugepages").found())
        .isNotEqualTo(Finding.Status.PROBLEM);
    assertThat(finding("memlock").status()).isEqualTo(Finding.Status.OK);
  }
}
