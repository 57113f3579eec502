package dev.upcie.uio;

import dev.upcie.backend.Availability;
import dev.upcie.backend.DeviceBackend;
import dev.upcie.host.Host;
import dev.upcie.kernel.Preflight;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.UpcieException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * The {@code uio} backend: functions bound to {@code uio_pci_generic}, with no IOMMU in between.
 * BARs are the sysfs {@code resourceN} files, configuration space the sysfs {@code config} file,
 * interrupts INTx through {@code /dev/uioN}, and DMA memory is hugepages given to the device by
 * physical address. It needs root (for {@code resourceN} and for physical addresses), and gives the
 * device all of memory: use it where there is no IOMMU.
 */
public final class UioBackend implements DeviceBackend {
  /** The backend's name. */
  public static final String NAME = "uio";

  /** The driver a function must be bound to. */
  public static final String DRIVER = "uio_pci_generic";

  /** For {@link java.util.ServiceLoader}. */
  public UioBackend() {}

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
    return 20;
  }

  @Override
  public Host defaultHost() {
    return Host.system();
  }

  @Override
  public Availability probe(PciSelector selector, Host host) {
    try {
      return new Availability.Available(preflight(selector, host).function(), host);
    } catch (UpcieException e) {
      return new Availability.Unavailable(e);
    }
  }

  @Override
  public PciDeviceHandle open(PciSelector selector, Host host) {
    Found found = preflight(selector, host);
    return UioPciDevice.open(found.function(), found.node(), host);
  }

  /** The function and its {@code /dev/uioN}, or what is missing. */
  private static Found preflight(PciSelector selector, Host host) {
    Preflight.requireRealHost(host, NAME);
    PciFunction function = host.bus().selectBound(selector, DRIVER);
    String uioDir = PciBus.dir(function.address()) + "/uio";
    List<String> nodes = host.sysfs().exists(uioDir) ? host.sysfs().list(uioDir) : List.of();
    if (nodes.isEmpty()) {
      throw new UioException(
          function.address()
              + " is bound to "
              + DRIVER
              + " but has no UIO device (no "
              + host.sysfs().resolve(uioDir)
              + "/uioN): the driver's probe failed (see dmesg; it refuses functions whose INTx"
              + " cannot be masked)");
    }
    Path node = host.dev().resolve(nodes.get(0));
    if (!Files.exists(node)) {
      throw new UioException(
          node
              + " does not exist although "
              + function.address()
              + " is bound to "
              + DRIVER
              + ": is devtmpfs mounted on "
              + host.dev()
              + "?");
    }
    return new Found(function, node);
  }

  private record Found(PciFunction function, Path node) {}
}
