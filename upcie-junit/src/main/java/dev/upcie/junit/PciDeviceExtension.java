package dev.upcie.junit;

import dev.upcie.backend.DeviceBackend;
import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.procfs.Procfs;
import dev.upcie.support.InvalidInputException;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ExtensionContext.Store;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Resolves {@link PciDevice} parameters: picks the backend through {@link DeviceBackends}, selects
 * the function, opens it, and closes it when JUnit closes the store of the context that asked
 * (after the test, for a test method parameter).
 *
 * <p>Registered by the annotation itself; there is no need to name it in {@code @ExtendWith}.
 */
final class PciDeviceExtension implements ParameterResolver {
  /** Configuration parameter or system property selecting the backend. */
  static final String BACKEND_PROPERTY = "upcie.backend";

  /** Environment variable selecting the backend when the property is unset. */
  static final String BACKEND_ENV = "UPCIE_BACKEND";

  /** Configuration parameter or system property naming the sysfs root for real backends. */
  static final String SYSFS_ROOT_PROPERTY = "upcie.sysfs.root";

  private static final String DEFAULT_BACKEND = "sim";
  private static final Namespace NAMESPACE = Namespace.create(PciDeviceExtension.class);

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.isAnnotated(PciDevice.class);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    String where = describe(parameter);
    Class<?> type = parameter.getParameter().getType();
    if (!type.isAssignableFrom(PciDeviceHandle.class)
        && !PciDeviceHandle.class.isAssignableFrom(type)) {
      throw new ParameterResolutionException(
          where
              + " has type "
              + type.getName()
              + "; declare it as PciDeviceHandle (or the handle type of one backend, such as"
              + " SimPciDeviceHandle)");
    }
    PciSelector selector = selector(parameter.findAnnotation(PciDevice.class).orElseThrow(), where);
    String backend = backend(context);
    PciDeviceHandle device;
    try {
      device = DeviceBackends.choose(backend, selector, hosts(context)).open();
    } catch (InvalidInputException e) {
      throw new ParameterResolutionException(
          where + ": " + backendSource(context) + e.getMessage(), e);
    } catch (UpcieException e) {
      String attempt =
          backend.strip().equalsIgnoreCase(DeviceBackends.AUTO)
              ? ""
              : "cannot open " + selector + " on the " + backend.strip() + " backend: ";
      throw new ParameterResolutionException(where + ": " + attempt + e.getMessage(), e);
    }
    if (!type.isInstance(device)) {
      device.close();
      throw new ParameterResolutionException(
          where
              + " wants a "
              + type.getSimpleName()
              + ", but the "
              + device.backend()
              + " backend opens devices of another kind; declare it as PciDeviceHandle");
    }
    context.getStore(NAMESPACE).put(parameter, new Opened(device));
    context.publishReportEntry(
        "upcie.device", device.backend() + " " + device.function().summary());
    return device;
  }

  /**
   * The machine each backend looks at: the tree {@value #SYSFS_ROOT_PROPERTY} names, for every
   * backend; else each backend's default, made once per context so that the parameters of one test
   * share one simulated machine.
   */
  private static Function<DeviceBackend, Host> hosts(ExtensionContext context) {
    Optional<Host> named = sysfsRoot(context).map(PciDeviceExtension::host);
    Store store = context.getStore(NAMESPACE);
    return backend -> named.orElseGet(() -> defaultHost(store, backend));
  }

  // get and put rather than computeIfAbsent, which JUnit before 5.13 lacks; one context's
  // parameters resolve on one thread.
  private static Host defaultHost(Store store, DeviceBackend backend) {
    String key = "host of " + backend.name();
    Host host = store.get(key, Host.class);
    if (host == null) {
      host = backend.defaultHost();
      store.put(key, host);
    }
    return host;
  }

  private static Host host(Path sysfsRoot) {
    return Host.of(Sysfs.of(sysfsRoot), Procfs.system(), Path.of("/dev"));
  }

  private static String describe(ParameterContext parameter) {
    Parameter p = parameter.getParameter();
    Executable executable = parameter.getDeclaringExecutable();
    String name = p.isNamePresent() ? p.getName() : "#" + parameter.getIndex();
    return "@PciDevice parameter ["
        + name
        + "] of "
        + executable.getDeclaringClass().getSimpleName()
        + "."
        + (executable instanceof Constructor<?> ? "<init>" : executable.getName());
  }

  private static PciSelector selector(PciDevice annotation, String where) {
    if (annotation.address().isBlank()
        && annotation.id().isBlank()
        && annotation.classCode().isBlank()) {
      throw new ParameterResolutionException(
          where + " selects nothing: give an address, an id or a classCode");
    }
    try {
      PciSelector selector = PciSelector.any();
      if (!annotation.address().isBlank()) {
        selector = selector.withAddress(PciAddress.parse(annotation.address()));
      }
      if (!annotation.id().isBlank()) {
        selector = selector.withId(PciId.parse(annotation.id()));
      }
      if (!annotation.classCode().isBlank()) {
        selector = selector.withClass(annotation.classCode());
      }
      return selector;
    } catch (UpcieException e) {
      throw new ParameterResolutionException(where + ": " + e.getMessage(), e);
    }
  }

  /** The backend the run asks for: the property, else the environment variable, else sim. */
  private static String backend(ExtensionContext context) {
    Optional<String> configured = context.getConfigurationParameter(BACKEND_PROPERTY);
    if (configured.isPresent()) {
      return configured.get();
    }
    String env = System.getenv(BACKEND_ENV);
    return env != null && !env.isBlank() ? env : DEFAULT_BACKEND;
  }

  /** Where the backend's name came from, for a message about a name that is not a backend. */
  private static String backendSource(ExtensionContext context) {
    return context.getConfigurationParameter(BACKEND_PROPERTY).isPresent()
        ? BACKEND_PROPERTY + ": "
        : BACKEND_ENV + ": ";
  }

  private static Optional<Path> sysfsRoot(ExtensionContext context) {
    Optional<String> root = context.getConfigurationParameter(SYSFS_ROOT_PROPERTY);
    if (root.isEmpty()) {
      return Optional.empty();
    }
    Path path = Path.of(root.get());
    if (!Files.isDirectory(path)) {
      throw new ParameterResolutionException(
          SYSFS_ROOT_PROPERTY + "=" + root.get() + " is not a directory");
    }
    return Optional.of(path);
  }

  /**
   * Closes the device when JUnit closes the store it was put in. JUnit before 5.13 closes only a
   * {@code CloseableResource}, later versions an {@code AutoCloseable} (once, if it is both);
   * handles close idempotently either way.
   */
  @SuppressWarnings("deprecation") // CloseableResource: for the users still on JUnit 5.12 or older
  private record Opened(PciDeviceHandle device) implements AutoCloseable, Store.CloseableResource {
    @Override
    public void close() {
      device.close();
    }
  }
}
