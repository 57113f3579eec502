package dev.upcie.vfio;

import dev.upcie.backend.Availability;
import dev.upcie.backend.DeviceBackend;
import dev.upcie.host.Host;
import dev.upcie.kernel.Preflight;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.NotSupportedException;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The {@code vfio} backend: functions bound to {@code vfio-pci}, opened through VFIO type1 with the
 * IOMMU between the device and memory.
 *
 * <p>The preflight, against the host's sysfs and {@code /dev}, says what is missing before the
 * kernel is asked: the function bound elsewhere (and the commands that bind it), no IOMMU, a group
 * that other drivers hold (and which devices), no VFIO modules, no group node.
 *
 * <p>iommufd with vfio cdev is the kernel's newer interface; Debian's 6.1 and 6.12 kernels are
 * built without it ({@code CONFIG_IOMMUFD}), so this backend uses type1 only and says so when asked
 * for it ({@value #IOMMU_PROPERTY}{@code =iommufd}).
 */
public final class VfioBackend implements DeviceBackend {
  /** The backend's name. */
  public static final String NAME = "vfio";

  /** The driver a function must be bound to. */
  public static final String DRIVER = "vfio-pci";

  /**
   * System property choosing the IOMMU interface: {@code type1} (the default) or {@code iommufd}.
   */
  public static final String IOMMU_PROPERTY = "upcie.vfio.iommu";

  // Drivers that leave a group usable by VFIO: vfio-pci itself, the stub, and bridges' port driver.
  private static final Set<String> VIABLE_DRIVERS = Set.of(DRIVER, "pci-stub", "pcieport");

  /** For {@link java.util.ServiceLoader}. */
  public VfioBackend() {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Optional<String> driver() {
    return Optional.of(DRIVER);
  }

  @Override
  public int preference() {
    return 10;
  }

  @Override
  public Host defaultHost() {
    return Host.system();
  }

  @Override
  public Availability probe(PciSelector selector, Host host) {
    try {
      return new Availability.Available(preflight(selector, host), host);
    } catch (UpcieException e) {
      return new Availability.Unavailable(e);
    }
  }

  @Override
  public PciDeviceHandle open(PciSelector selector, Host host) {
    return VfioPciDevice.open(preflight(selector, host), host);
  }

  /**
   * Finds the function and checks what VFIO needs of the host, saying what to do when something is
   * missing.
   */
  static PciFunction preflight(PciSelector selector, Host host) {
    requireType1();
    Preflight.requireRealHost(host, NAME);
    PciFunction function = host.bus().selectBound(selector, DRIVER);
    if (function.iommuGroup().isEmpty()) {
      throw new VfioException(
          function.address()
              + " has no IOMMU group: the kernel runs without an IOMMU; boot with intel_iommu=on"
              + " (or amd_iommu=on), or use the uio backend instead of vfio");
    }
    int group = function.iommuGroup().getAsInt();
    requireViable(host.sysfs(), group, function.address());
    if (!Files.exists(host.dev().resolve("vfio/vfio"))) {
      throw new VfioException(
          "VFIO is not available: "
              + host.dev().resolve("vfio/vfio")
              + " does not exist; load it with `modprobe vfio-pci` (as root)");
    }
    if (!Files.exists(host.dev().resolve("vfio/" + group))) {
      throw new VfioException(
          host.dev().resolve("vfio/" + group)
              + " does not exist although "
              + function.address()
              + " is bound to vfio-pci: is devtmpfs mounted on "
              + host.dev()
              + "?");
    }
    return function;
  }

  private static void requireType1() {
    String iommu = System.getProperty(IOMMU_PROPERTY, "type1");
    switch (iommu) {
      case "type1" -> {}
      case "iommufd" ->
          throw new NotSupportedException(
              IOMMU_PROPERTY
                  + "=iommufd: iommufd and vfio cdev are not available on this kernel's build"
                  + " (Debian's kernels lack CONFIG_IOMMUFD), and uPCIe for Java drives VFIO"
                  + " through type1 only; unset it");
      default ->
          throw new dev.upcie.support.InvalidInputException(
              IOMMU_PROPERTY + "=" + iommu + " is not an IOMMU interface: use type1");
    }
  }

  /**
   * The kernel hands out a group only if every device in it is on vfio-pci, a stub, or nothing;
   * name the devices that are not, which the kernel's refusal does not.
   */
  private static void requireViable(Sysfs sysfs, int group, PciAddress address) {
    String devices = "kernel/iommu_groups/" + group + "/devices";
    if (!sysfs.exists(devices)) {
      return;
    }
    PciBus bus = new PciBus(sysfs);
    List<String> blocking = new ArrayList<>();
    for (String name : sysfs.list(devices)) {
      if (!PciAddress.isAddress(name)) {
        continue;
      }
      bus.find(PciAddress.parse(name))
          .flatMap(PciFunction::driver)
          .filter(driver -> !VIABLE_DRIVERS.contains(driver))
          .ifPresent(driver -> blocking.add(name + " (bound to " + driver + ")"));
    }
    if (!blocking.isEmpty()) {
      throw new VfioException(
          "IOMMU group "
              + group
              + " of "
              + address
              + " is not viable: "
              + String.join(", ", blocking)
              + " must be bound to vfio-pci or unbound too");
    }
  }
}
