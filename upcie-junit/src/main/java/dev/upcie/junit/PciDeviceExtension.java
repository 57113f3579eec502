package dev.upcie.junit;

import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.Backend;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDevice;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.vfio.VfioPciDevice;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ExtensionContext.Store;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Resolves {@link PciDevice} parameters: picks the backend, selects the function, opens it, and
 * closes it when JUnit closes the store of the context that asked (after the test, for a test
 * method parameter).
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

  private static final Namespace NAMESPACE = Namespace.create(PciDeviceExtension.class);
  private static final String MACHINE_KEY = "simulated machine";

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.isAnnotated(PciDevice.class);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    String where = describe(parameter);
    Class<?> type = parameter.getParameter().getType();
    boolean simAllowed = type.isAssignableFrom(SimPciDevice.class);
    boolean vfioAllowed = type.isAssignableFrom(VfioPciDevice.class);
    if (!simAllowed && !vfioAllowed) {
      throw new ParameterResolutionException(
          where
              + " has type "
              + type.getName()
              + "; declare it as PciDeviceHandle (or SimPciDevice / VfioPciDevice to pin the"
              + " backend)");
    }
    PciSelector selector = selector(parameter.findAnnotation(PciDevice.class).orElseThrow(), where);
    Backend configured = backend(context);
    Backend backend;
    if (!vfioAllowed) {
      backend = requireBackend(configured, Backend.SIM, type, where);
    } else if (!simAllowed) {
      backend = requireBackend(configured, Backend.VFIO, type, where);
    } else {
      backend = configured.resolve(selector, sysfs(context));
    }
    PciDeviceHandle device;
    try {
      device = backend.open(selector, sysfs(context), () -> machine(context));
    } catch (UpcieException e) {
      throw new ParameterResolutionException(
          where
              + ": cannot open "
              + selector
              + " on the "
              + backend
              + " backend: "
              + e.getMessage(),
          e);
    }
    context.getStore(NAMESPACE).put(parameter, new Opened(device));
    context.publishReportEntry(
        "upcie.device", device.backend() + " " + device.function().summary());
    return device;
  }

  /** A parameter whose type pins a backend works on that one and on auto, never the other. */
  private static Backend requireBackend(
      Backend configured, Backend pinned, Class<?> type, String where) {
    if (configured != pinned && configured != Backend.AUTO) {
      throw new ParameterResolutionException(
          where
              + " wants a "
              + type.getSimpleName()
              + ", which the "
              + configured
              + " backend cannot give");
    }
    return pinned;
  }

  private static SimMachine machine(ExtensionContext context) {
    // One simulated machine per context, shared by all its @PciDevice parameters.
    Store store = context.getStore(NAMESPACE);
    return store.computeIfAbsent(MACHINE_KEY, k -> SimMachine.qemuQ35(), SimMachine.class);
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

  private static Backend backend(ExtensionContext context) {
    try {
      Optional<String> configured = context.getConfigurationParameter(BACKEND_PROPERTY);
      if (configured.isPresent()) {
        return Backend.parse(configured.get(), BACKEND_PROPERTY);
      }
      String env = System.getenv(BACKEND_ENV);
      if (env != null && !env.isBlank()) {
        return Backend.parse(env, BACKEND_ENV);
      }
      return Backend.SIM;
    } catch (UpcieException e) {
      throw new ParameterResolutionException(e.getMessage(), e);
    }
  }

  private static Sysfs sysfs(ExtensionContext context) {
    Optional<String> root = context.getConfigurationParameter(SYSFS_ROOT_PROPERTY);
    if (root.isEmpty()) {
      return Sysfs.system();
    }
    Path path = Path.of(root.get());
    if (!Files.isDirectory(path)) {
      throw new ParameterResolutionException(
          SYSFS_ROOT_PROPERTY + "=" + root.get() + " is not a directory");
    }
    return Sysfs.of(path);
  }

  /** Closes the device when JUnit closes the store it was put in. */
  private record Opened(PciDeviceHandle device) implements AutoCloseable {
    @Override
    public void close() {
      device.close();
    }
  }
}
