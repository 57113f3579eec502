package dev.upcie.tools.devbind;

import dev.upcie.host.Host;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciFunctionNotFoundException;
import dev.upcie.pci.PciSelector;
import dev.upcie.tools.DeviceArgument;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** The functions a moving command's DEVICE arguments name, each of which must exist. */
final class Targets {
  private Targets() {}

  /**
   * The addresses {@code devices} name, in the order given, each once: an address, a vendor:device
   * id (every function with it) or an NVMe name.
   *
   * @throws PciFunctionNotFoundException naming the first argument that matches nothing
   */
  static List<PciAddress> resolve(Host host, List<String> devices) {
    PciBus bus = new PciBus(host.sysfs());
    Set<PciAddress> addresses = new LinkedHashSet<>();
    for (String device : devices) {
      PciSelector selector = DeviceArgument.parse(device, host.sysfs());
      List<PciFunction> matches =
          selector.address().isPresent()
              ? bus.find(selector.address().get()).stream().toList()
              : bus.select(selector);
      if (matches.isEmpty()) {
        throw new PciFunctionNotFoundException(
            "no PCI function "
                + device
                + " in "
                + host.sysfs().resolve(PciBus.DEVICES)
                + " (run `upcie devbind list` to see them all)");
      }
      matches.forEach(f -> addresses.add(f.address()));
    }
    return List.copyOf(addresses);
  }
}
