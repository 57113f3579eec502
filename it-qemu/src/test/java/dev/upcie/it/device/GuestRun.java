package dev.upcie.it.device;

/**
 * What the run that executes these tests says about itself, set as system properties by whoever
 * runs them on a real backend (the QEMU guest scripts): so a test can check that it met the device
 * the run meant, and never passes on a silent fallback.
 */
public final class GuestRun {
  /** The JUnit tag of tests that run in the QEMU guests only (see their javadoc for why). */
  public static final String GUEST_ONLY = "guest";

  /** System property: the backend the run selected ({@code vfio}, {@code uio}); unset means sim. */
  public static final String EXPECTED_BACKEND = "upcie.it.expectedBackend";

  /** System property: the serial number QEMU's NVMe controller was started with. */
  public static final String NVME_SERIAL = "upcie.it.nvmeSerial";

  /** System property: the {@link NvmeLayout} QEMU's NVMe controller was started with. */
  public static final String NVME_LAYOUT = "upcie.it.nvmeLayout";

  private GuestRun() {}

  /** The backend this run uses: {@code sim} unless a guest script said otherwise. */
  public static String backend() {
    return System.getProperty(EXPECTED_BACKEND, "sim");
  }
}
