package dev.upcie.junit;

import dev.upcie.host.KernelLog;
import dev.upcie.pci.PciAddress;
import dev.upcie.support.UpcieException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Store;

/**
 * The DMA faults a real IOMMU reports during a test: they reach only the kernel log ({@code DMAR:
 * [DMA Read NO_PASID] Request device [00:06.0] fault addr ...}), read here from the test's start
 * where this process may, and said to be unavailable where it may not.
 */
final class KernelFaults {
  private KernelFaults() {}

  /** Starts reading the kernel log for {@code context}'s test, or reports why it cannot. */
  static void watch(ExtensionContext context) {
    try {
      context
          .getStore(PciDeviceExtension.NAMESPACE)
          .put(Watch.class, new Watch(KernelLog.fromNow()));
    } catch (UpcieException e) {
      context.publishReportEntry(
          "upcie.dmaFaults",
          "not checked: cannot read the kernel log ("
              + e.getMessage()
              + "); run as root, or set kernel.dmesg_restrict=0");
    }
  }

  /**
   * The IOMMU faults of {@code devices} (those whose DMA an IOMMU translates) logged since {@link
   * #watch}; empty if the log is not watched.
   */
  static List<String> since(ExtensionContext context, List<OpenDevice> devices) {
    Watch watch = context.getStore(PciDeviceExtension.NAMESPACE).get(Watch.class, Watch.class);
    if (watch == null) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    for (OpenDevice device : devices) {
      if (device.machine().isEmpty() && device.choice().host().isReal()) {
        names.add("[" + shortName(device.handle().function().address()) + "]");
      }
    }
    List<String> faults = new ArrayList<>();
    for (String message : watch.log().newMessages()) {
      if (message.contains("DMAR") && names.stream().anyMatch(message::contains)) {
        faults.add(message.strip());
      }
    }
    return faults;
  }

  /** {@code 00:06.0}: how intel-iommu names a function of domain 0 in its fault messages. */
  private static String shortName(PciAddress address) {
    String full = address.toString().toLowerCase(Locale.ROOT);
    return full.startsWith("0000:") ? full.substring(5) : full;
  }

  /** The open kernel log, closed with the test's store. */
  @SuppressWarnings("deprecation") // CloseableResource: JUnit 5 closes only those before 5.13
  private record Watch(KernelLog log) implements AutoCloseable, Store.CloseableResource {
    @Override
    public void close() {
      log.close();
    }
  }
}
