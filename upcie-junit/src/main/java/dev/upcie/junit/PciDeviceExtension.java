package dev.upcie.junit;

import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDevice;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.vfio.VfioPciDevice;
import java.lang.reflect.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.ExtensionContext.Store;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolutionException;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * Resolves {@link PciDevice} parameters: picks the backend, selects the function, opens it, and
 * closes it after the test through the method-scoped store.
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
    Parameter p = parameter.getParameter();
    String where =
        "@PciDevice parameter ["
            + (p.isNamePresent() ? p.getName() : "#" + parameter.getIndex())
            + "] of "
            + context.getRequiredTestMethod().getDeclaringClass().getSimpleName()
            + "."
            + context.getRequiredTestMethod().getName();
    Class<?> type = p.getType();
    if (!type.isAssignableFrom(SimPciDevice.class) && !type.isAssignableFrom(VfioPciDevice.class)) {
      throw new ParameterResolutionException(
          where
              + " has type "
              + type.getName()
              + "; declare it as PciDeviceHandle (or SimPciDevice / VfioPciDevice to pin the"
              + " backend)");
    }
    PciDevice annotation = parameter.findAnnotation(PciDevice.class).orElseThrow();
    PciSelector selector = selector(annotation, where);
    Backend backend = backend(context);
    PciDeviceHandle device;
    try {
      device = open(backend, selector, type, where, context);
    } catch (UpcieException e) {
      throw new ParameterResolutionException(
          where
              + ": cannot open "
              + selector
              + " on the "
              + backend.name().toLowerCase(Locale.ROOT)
              + " backend: "
              + e.getMessage(),
          e);
    }
    Store store = context.getStore(NAMESPACE);
    store.put(parameter, new Opened(device));
    context.publishReportEntry(
        "upcie.device", device.backend() + " " + device.function().summary());
    return device;
  }

  private PciDeviceHandle open(
      Backend backend,
      PciSelector selector,
      Class<?> type,
      String where,
      ExtensionContext context) {
    Backend effective = backend;
    if (backend == Backend.AUTO) {
      effective = vfioCandidate(selector, context).isPresent() ? Backend.VFIO : Backend.SIM;
    }
    if (effective == Backend.SIM) {
      if (!type.isAssignableFrom(SimPciDevice.class)) {
        throw new ParameterResolutionException(
            where + " wants a " + type.getSimpleName() + ", which the sim backend cannot give");
      }
      SimMachine machine =
          context
              .getStore(NAMESPACE)
              .computeIfAbsent(MACHINE_KEY, k -> SimMachine.qemuQ35(), SimMachine.class);
      PciFunction function = machine.bus().selectOne(selector, VfioPciDevice.DRIVER);
      return machine.open(function.address());
    }
    if (!type.isAssignableFrom(VfioPciDevice.class)) {
      throw new ParameterResolutionException(
          where + " wants a " + type.getSimpleName() + ", which the vfio backend cannot give");
    }
    Sysfs sysfs = sysfs(context);
    PciFunction function = new PciBus(sysfs).selectOne(selector, VfioPciDevice.DRIVER);
    return VfioPciDevice.open(sysfs, function.address());
  }

  private Optional<PciFunction> vfioCandidate(PciSelector selector, ExtensionContext context) {
    Sysfs sysfs = sysfs(context);
    if (!sysfs.exists(PciBus.DEVICES)) {
      return Optional.empty();
    }
    return new PciBus(sysfs)
        .select(selector).stream().filter(f -> f.isBoundTo(VfioPciDevice.DRIVER)).findFirst();
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
    Optional<String> configured = context.getConfigurationParameter(BACKEND_PROPERTY);
    if (configured.isPresent()) {
      return Backend.parse(configured.get(), BACKEND_PROPERTY);
    }
    String env = System.getenv(BACKEND_ENV);
    if (env != null && !env.isBlank()) {
      return Backend.parse(env, BACKEND_ENV);
    }
    return Backend.SIM;
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

  /** Closes the device when JUnit closes the method's store, after the test. */
  private record Opened(PciDeviceHandle device) implements AutoCloseable {
    @Override
    public void close() {
      device.close();
    }
  }
}
