package dev.upcie.junit;

import dev.upcie.sim.SimMachine;
import dev.upcie.sim.model.DmaFault;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The devices one context (a test, or a class for its static fields and all-tests methods) used, in
 * the order it first used them, each with its simulated machine's DMA fault count at that moment:
 * what a failure report shows and the DMA fault check compares against.
 */
final class Uses {
  private final Map<OpenDevice, Long> faultsBefore = new IdentityHashMap<>();
  private final List<OpenDevice> devices = new ArrayList<>();

  /** The uses of {@code context}, created on first use. */
  static Uses of(ExtensionContext context) {
    return context
        .getStore(PciDeviceExtension.NAMESPACE)
        .getOrComputeIfAbsent(new Key(context.getUniqueId()), k -> new Uses(), Uses.class);
  }

  /** The uses of {@code context} itself, empty if it used no device. */
  static Optional<Uses> existing(ExtensionContext context) {
    // Looked up by the context's own id: a store's get also finds its parents' entries.
    return Optional.ofNullable(
        context
            .getStore(PciDeviceExtension.NAMESPACE)
            .get(new Key(context.getUniqueId()), Uses.class));
  }

  /** Notes that the context used {@code device}. */
  synchronized void add(OpenDevice device) {
    if (!faultsBefore.containsKey(device)) {
      faultsBefore.put(device, device.machine().map(m -> m.iommu().faultCount()).orElse(0L));
      devices.add(device);
    }
  }

  synchronized List<OpenDevice> devices() {
    return List.copyOf(devices);
  }

  /** The simulated machine's DMA faults since the context first used each device, described. */
  synchronized List<String> newDmaFaults() {
    List<String> faults = new ArrayList<>();
    List<SimMachine> seen = new ArrayList<>();
    for (OpenDevice device : devices) {
      Optional<SimMachine> machine = device.machine();
      if (machine.isEmpty() || seen.stream().anyMatch(m -> m == machine.get())) {
        continue;
      }
      seen.add(machine.get());
      faults.addAll(since(machine.get(), faultsBefore.get(device)));
    }
    return faults;
  }

  /**
   * The faults {@code machine} recorded after its first {@code before}, as far as it keeps them.
   */
  static List<String> since(SimMachine machine, long before) {
    long now = machine.iommu().faultCount();
    if (now <= before) {
      return List.of();
    }
    List<DmaFault> kept = machine.iommu().faults();
    long fresh = now - before;
    List<String> faults = new ArrayList<>();
    if (fresh > kept.size()) {
      faults.add("(" + (fresh - kept.size()) + " earlier faults no longer kept)");
    }
    kept.subList((int) Math.max(0, kept.size() - fresh), kept.size()).stream()
        .map(DmaFault::toString)
        .forEach(faults::add);
    return faults;
  }

  private record Key(String context) {}
}
