package dev.upcie.backend;

import dev.upcie.host.Host;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.InvalidInputException;
import dev.upcie.support.UpcieException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * The {@link DeviceBackend}s on the class or module path, by name, and the choice {@code auto}
 * makes among them. The JUnit extension and the command line choose through here.
 *
 * <pre>{@code
 * PciSelector nvme = PciSelector.any().withClass(PciClassCode.NVME);
 * DeviceBackends.Choice choice = DeviceBackends.choose("auto", nvme, DeviceBackend::defaultHost);
 * try (PciDeviceHandle device = choice.open()) {
 *   ...
 * }
 * }</pre>
 *
 * <p>{@code auto} tries the backends in their {@link DeviceBackend#preference() preference} order:
 * {@code vfio} (an IOMMU between device and memory), {@code uio}, then {@code sim}. A function
 * bound to {@code vfio-pci} is opened through VFIO, and where nothing matching is bound to a
 * user-space driver, the simulator stands in.
 */
public final class DeviceBackends {
  /** The name that lets the toolkit choose. */
  public static final String AUTO = "auto";

  private static volatile List<DeviceBackend> loaded;

  private DeviceBackends() {}

  /** Every backend found, in the order {@code auto} tries them. */
  public static List<DeviceBackend> all() {
    List<DeviceBackend> backends = loaded;
    if (backends == null) {
      backends = load();
      loaded = backends;
    }
    return backends;
  }

  /** The names of every backend found, in {@code auto}'s order. */
  public static List<String> names() {
    return all().stream().map(DeviceBackend::name).toList();
  }

  /**
   * The backend called {@code name} (in any case).
   *
   * @throws InvalidInputException naming the backends there are
   */
  public static DeviceBackend named(String name) {
    String wanted = Objects.requireNonNull(name, "name").strip().toLowerCase(Locale.ROOT);
    for (DeviceBackend backend : all()) {
      if (backend.name().equals(wanted)) {
        return backend;
      }
    }
    throw new InvalidInputException(
        "\"" + name + "\" is not a backend: choose " + String.join(", ", choices()));
  }

  /**
   * Chooses the backend and function for {@code selector}: the backend called {@code name}, or with
   * {@value #AUTO} the first in {@link #all()} that can serve.
   *
   * <p>{@code auto} takes a real backend (one that needs a kernel driver) as soon as a matching
   * function is bound to its driver, and then reports that backend's failure rather than quietly
   * falling back: a function set aside for {@code vfio-pci} on a machine whose VFIO is broken is an
   * error to fix, not a reason to test the simulator instead. On a simulated host the real backends
   * only give their reasons.
   *
   * @param hostFor the machine each backend is to look at: usually {@link
   *     DeviceBackend#defaultHost()}, or a host the user named
   * @throws InvalidInputException if there is no such backend
   * @throws UpcieException if the backend (or, with {@code auto}, every backend) cannot serve: the
   *     backend's own exception for one backend, each one's reason for {@code auto}
   */
  public static Choice choose(
      String name, PciSelector selector, Function<DeviceBackend, Host> hostFor) {
    if (!AUTO.equalsIgnoreCase(Objects.requireNonNull(name, "name").strip())) {
      DeviceBackend backend = named(name);
      Host host = hostFor.apply(backend);
      return switch (backend.probe(selector, host)) {
        case Availability.Available available ->
            new Choice(backend, available.host(), available.function());
        case Availability.Unavailable unavailable -> throw unavailable.failure();
      };
    }
    List<String> reasons = new ArrayList<>();
    for (DeviceBackend backend : all()) {
      Host host = hostFor.apply(backend);
      Optional<String> driver = backend.driver();
      if (driver.isPresent() && !boundTo(host, selector, driver.get())) {
        reasons.add(backend.name() + ": nothing matching is bound to " + driver.get());
        continue;
      }
      switch (backend.probe(selector, host)) {
        case Availability.Available available -> {
          return new Choice(backend, available.host(), available.function());
        }
        case Availability.Unavailable unavailable -> {
          // A simulated host has no kernel for a real backend: its refusal is a reason, not an
          // error to stop at.
          if (driver.isPresent() && host.isReal()) {
            throw new UpcieException(
                "cannot open "
                    + selector
                    + " on the "
                    + backend.name()
                    + " backend, which auto chose because a matching function is bound to "
                    + driver.get()
                    + ": "
                    + unavailable.reason(),
                unavailable.failure());
          }
          reasons.add(backend.name() + ": " + unavailable.reason());
        }
      }
    }
    throw new UpcieException("no backend can open " + selector + ": " + String.join("; ", reasons));
  }

  /** True if {@code host} has a function {@code selector} matches bound to {@code driver}. */
  private static boolean boundTo(Host host, PciSelector selector, String driver) {
    try {
      return host.bus().select(selector).stream().anyMatch(f -> f.isBoundTo(driver));
    } catch (UpcieException e) {
      // No PCI bus to read (an empty tree): nothing is bound.
      return false;
    }
  }

  /** The names a user may give: every backend's, and {@value #AUTO}. */
  private static List<String> choices() {
    List<String> names = new ArrayList<>(names());
    names.sort(null);
    names.add(AUTO);
    return names;
  }

  private static List<DeviceBackend> load() {
    Map<String, DeviceBackend> byName = new LinkedHashMap<>();
    ClassLoader context = Thread.currentThread().getContextClassLoader();
    for (ClassLoader loader : new ClassLoader[] {context, DeviceBackends.class.getClassLoader()}) {
      for (DeviceBackend backend : ServiceLoader.load(DeviceBackend.class, loader)) {
        DeviceBackend other = byName.putIfAbsent(backend.name(), backend);
        if (other != null && other.getClass() != backend.getClass()) {
          throw new IllegalStateException(
              "two backends are called "
                  + backend.name()
                  + ": "
                  + other.getClass().getName()
                  + " and "
                  + backend.getClass().getName());
        }
      }
    }
    List<DeviceBackend> backends = new ArrayList<>(byName.values());
    backends.sort(
        Comparator.comparingInt(DeviceBackend::preference).thenComparing(DeviceBackend::name));
    return List.copyOf(backends);
  }

  /**
   * A backend, the machine the function is on, and the function.
   *
   * @param backend the backend
   * @param host the machine the function is on
   * @param function the function it will open
   */
  public record Choice(DeviceBackend backend, Host host, PciFunction function) {
    /** Opens the function: {@code backend().open(selector of function(), host())}. */
    public PciDeviceHandle open() {
      return backend.open(PciSelector.any().withAddress(function.address()), host);
    }
  }
}
