package dev.upcie.backend;

import dev.upcie.host.Host;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciSelector;
import java.util.Optional;

/**
 * A way of opening PCI functions for a driver: {@code vfio} and {@code uio} in core, {@code sim} in
 * upcie-sim, or your own. Found with {@link java.util.ServiceLoader}; use {@link DeviceBackends} to
 * pick one by name or let {@code auto} choose.
 *
 * <p>Callers never switch on a backend's name or on the class of the handle it returns: they ask
 * {@link #probe} whether it can serve, and {@link #open} it.
 *
 * <pre>{@code
 * DeviceBackend vfio = DeviceBackends.named("vfio");
 * PciSelector nvme = PciSelector.any().withClass(PciClassCode.NVME);
 * switch (vfio.probe(nvme, Host.system())) {
 *   case Availability.Available a -> System.out.println("would open " + a.function().summary());
 *   case Availability.Unavailable u -> System.out.println("cannot: " + u.reason());
 * }
 * }</pre>
 *
 * <p>To add a backend, implement this interface in a public class with a public no-argument
 * constructor and register it in {@code META-INF/services/dev.upcie.backend.DeviceBackend} (and in
 * {@code provides} of a module descriptor).
 */
public interface DeviceBackend {

  /** The name users choose it by: {@code vfio}, {@code uio}, {@code sim}. */
  String name();

  /**
   * The kernel driver a function must be bound to before this backend can open it, such as {@code
   * vfio-pci}; empty for a backend that needs none (the simulator).
   */
  Optional<String> driver();

  /**
   * The driver a function must be bound to on {@code host} before {@link #open} takes it: {@link
   * #driver()} unless the backend says otherwise (the simulator opens the functions of a simulated
   * machine that are bound to that machine's {@code vfio-pci}). Whoever binds for the user (the
   * JUnit extension) binds to this.
   */
  default Optional<String> driverOn(Host host) {
    return driver();
  }

  /**
   * Where {@code auto} tries this backend among the others, lowest first: backends with an IOMMU
   * between the device and memory before those without, real devices before the simulator. {@code
   * vfio} is 10, {@code uio} 20, {@code sim} 100; by default 50 for a backend that needs a kernel
   * driver and 100 for one that does not.
   */
  default int preference() {
    return driver().isPresent() ? 50 : 100;
  }

  /**
   * The machine this backend serves when the caller names none: this machine for the real backends,
   * a fresh simulated machine for the simulator.
   */
  Host defaultHost();

  /**
   * Whether this backend can open the function {@code selector} means on {@code host}, and which
   * function that is; or why not, in words a user can act on. Changes nothing on the host.
   */
  Availability probe(PciSelector selector, Host host);

  /**
   * Opens the function {@code selector} means on {@code host}.
   *
   * @throws dev.upcie.support.UpcieException if it cannot, saying why and what to do
   */
  PciDeviceHandle open(PciSelector selector, Host host);
}
