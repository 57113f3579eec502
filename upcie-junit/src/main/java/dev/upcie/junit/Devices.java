package dev.upcie.junit;

import dev.upcie.backend.DeviceBackend;
import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.junit.PciDevice.Scope;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.FunctionUse;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciFunction;
import dev.upcie.procfs.Procfs;
import dev.upcie.sim.SimMachine;
import dev.upcie.support.InvalidInputException;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Store;
import org.junit.platform.commons.support.AnnotationSupport;
import org.junit.platform.commons.support.HierarchyTraversalMode;

/**
 * Finds the {@link PciDevice} elements of a context, chooses their backends, and opens their
 * devices in the store of their scope, once per scope, backend, selection and simulated machine.
 */
final class Devices {
  /** Configuration parameter or system property naming the sysfs root for real backends. */
  static final String SYSFS_ROOT_PROPERTY = "upcie.sysfs.root";

  private Devices() {}

  /**
   * The elements a test needs before it runs: its parameters, its instance fields (of its class,
   * its superclasses and, for a {@code @Nested} class, its enclosing classes), and the parameters
   * of its constructor and {@code @BeforeEach}/{@code @AfterEach} methods.
   */
  static List<DeviceRequest> ofTest(ExtensionContext context) {
    Function<String, Optional<String>> config = context::getConfigurationParameter;
    List<DeviceRequest> requests = new ArrayList<>();
    parameters(context.getRequiredTestMethod(), config, requests);
    List<Class<?>> classes = new ArrayList<>(context.getEnclosingTestClasses());
    classes.add(context.getRequiredTestClass());
    for (Class<?> c : classes) {
      for (Field field : fields(c, false)) {
        requests.add(DeviceRequest.of(field, config));
      }
    }
    Class<?> testClass = context.getRequiredTestClass();
    if (context.getTestInstanceLifecycle().orElse(TestInstance.Lifecycle.PER_METHOD)
        == TestInstance.Lifecycle.PER_METHOD) {
      for (Constructor<?> constructor : testClass.getDeclaredConstructors()) {
        parameters(constructor, config, requests);
      }
    }
    for (Method method : lifecycle(testClass, BeforeEach.class, AfterEach.class)) {
      parameters(method, config, requests);
    }
    return requests;
  }

  /**
   * The elements a class needs: its static fields, the parameters of its {@code @BeforeAll} and
   * {@code @AfterAll} methods, and, with one instance per class, its constructor's.
   */
  static List<DeviceRequest> ofClass(ExtensionContext context) {
    Function<String, Optional<String>> config = context::getConfigurationParameter;
    List<DeviceRequest> requests = new ArrayList<>();
    Class<?> testClass = context.getRequiredTestClass();
    for (Field field : fields(testClass, true)) {
      requests.add(DeviceRequest.of(field, config));
    }
    for (Method method : lifecycle(testClass, BeforeAll.class, AfterAll.class)) {
      parameters(method, config, requests);
    }
    if (context.getTestInstanceLifecycle().orElse(TestInstance.Lifecycle.PER_METHOD)
        == TestInstance.Lifecycle.PER_CLASS) {
      for (Constructor<?> constructor : testClass.getDeclaredConstructors()) {
        parameters(constructor, config, requests);
      }
    }
    return requests;
  }

  /** The {@code @PciDevice} fields of {@code type} and its superclasses, static or not. */
  static List<Field> fields(Class<?> type, boolean statics) {
    return AnnotationSupport.findAnnotatedFields(
        type,
        PciDevice.class,
        f -> Modifier.isStatic(f.getModifiers()) == statics,
        HierarchyTraversalMode.TOP_DOWN);
  }

  private static List<Method> lifecycle(
      Class<?> type,
      Class<? extends java.lang.annotation.Annotation> first,
      Class<? extends java.lang.annotation.Annotation> second) {
    List<Method> methods =
        new ArrayList<>(
            AnnotationSupport.findAnnotatedMethods(type, first, HierarchyTraversalMode.TOP_DOWN));
    methods.addAll(
        AnnotationSupport.findAnnotatedMethods(type, second, HierarchyTraversalMode.TOP_DOWN));
    return methods;
  }

  private static void parameters(
      java.lang.reflect.Executable executable,
      Function<String, Optional<String>> config,
      List<DeviceRequest> into) {
    Parameter[] parameters = executable.getParameters();
    for (int i = 0; i < parameters.length; i++) {
      if (AnnotationSupport.isAnnotated(parameters[i], PciDevice.class)) {
        into.add(DeviceRequest.of(parameters[i], i, config));
      }
    }
  }

  /**
   * Chooses the backend and function for {@code request}, once per scope: the choice, or why no
   * backend can serve it.
   *
   * @throws ExtensionConfigurationException for a backend name that names no backend
   */
  static Prepared prepare(ExtensionContext context, DeviceRequest request) {
    BackendChoice backend = BackendChoice.of(context, request);
    SimSettings sim = SimSettings.of(context);
    Store store = store(context, request.scope());
    String scope = scopeId(context, request.scope());
    Key key = new Key(scope, backend.name(), request.selection(), sim.key());
    return store.getOrComputeIfAbsent(
        key, k -> choose(context, store, scope, request, backend, sim), Prepared.class);
  }

  private static Prepared choose(
      ExtensionContext context,
      Store store,
      String scope,
      DeviceRequest request,
      BackendChoice backend,
      SimSettings sim) {
    Optional<Host> named = sysfsRoot(context);
    Function<DeviceBackend, Host> hosts =
        b -> named.orElseGet(() -> host(context, store, scope, b, sim));
    DeviceBackends.Choice choice;
    Optional<String> bindTo = Optional.empty();
    try {
      choice = DeviceBackends.choose(backend.name(), request.selector(), hosts);
    } catch (InvalidInputException e) {
      throw new ExtensionConfigurationException(
          request.where() + ": " + backend.source() + ": " + e.getMessage(), e);
    } catch (UpcieException e) {
      Optional<DeviceBackends.Choice> bindable = bindable(request, backend, hosts);
      if (bindable.isEmpty()) {
        String attempt =
            backend.name().equals(DeviceBackends.AUTO)
                ? ""
                : "cannot open " + request.selector() + " on the " + backend.name() + " backend: ";
        return Prepared.unavailable(backend, request.where() + ": " + attempt + e.getMessage());
      }
      choice = bindable.get();
      bindTo = choice.backend().driverOn(choice.host());
      Optional<String> use = FunctionUse.of(choice.host(), choice.function().address());
      if (use.isPresent()) {
        return Prepared.unavailable(
            backend,
            request.where()
                + ": "
                + choice.function().summary()
                + " is in use ("
                + use.get()
                + "); the extension binds only a function nothing uses");
      }
    }
    if (request.view().simulatorOnly() && !(choice.host() instanceof SimMachine)) {
      return Prepared.unavailable(
          backend,
          request.where()
              + " wants "
              + (request.view() == DeviceView.MODEL
                  ? "the simulation model, which"
                  : "the simulated machine, which")
              + " only the simulator has; this run uses the "
              + choice.backend().name()
              + " backend (chosen by "
              + backend.source()
              + ")");
    }
    return new Prepared(backend, Optional.of(choice), bindTo, Optional.empty());
  }

  /**
   * The choice for a function the request names by address on a named backend, which is there but
   * not bound to the backend's driver: the extension binds it on the way in. Empty when binding
   * would not help, or the request does not name one function (a class code never moves the host's
   * disk).
   */
  private static Optional<DeviceBackends.Choice> bindable(
      DeviceRequest request, BackendChoice backend, Function<DeviceBackend, Host> hosts) {
    if (request.selector().address().isEmpty() || backend.name().equals(DeviceBackends.AUTO)) {
      return Optional.empty();
    }
    DeviceBackend chosen = DeviceBackends.named(backend.name());
    Host host = hosts.apply(chosen);
    Optional<String> driver = chosen.driverOn(host);
    if (driver.isEmpty()) {
      return Optional.empty();
    }
    try {
      Optional<PciFunction> function = host.bus().find(request.selector().address().get());
      if (function.isEmpty()
          || !request.selector().matches(function.get())
          || function.get().isBoundTo(driver.get())
          || !host.sysfs().exists(PciBus.DRIVERS + "/" + driver.get())) {
        return Optional.empty();
      }
      return Optional.of(new DeviceBackends.Choice(chosen, host, function.get()));
    } catch (UpcieException e) {
      return Optional.empty();
    }
  }

  /**
   * Puts back, once per run and machine, what a test run that died mid-test (a {@code kill -9})
   * left bound to another driver, as its journal says.
   */
  private static void recoverOrphans(ExtensionContext context, Host host) {
    context
        .getRoot()
        .getStore(PciDeviceExtension.NAMESPACE)
        .getOrComputeIfAbsent(
            "recovered " + host.runtimeDirectory(),
            k -> {
              List<BindingJournal.Entry> restored;
              try {
                restored = BindingJournal.of(host).restoreOrphans(new PciDriverBinder(host));
              } catch (UpcieException e) {
                throw new ExtensionConfigurationException(
                    "a test run that died left a function on another driver, and putting it back"
                        + " failed: "
                        + e.getMessage()
                        + "; put it back by hand and remove its entry in "
                        + BindingJournal.of(host).directory(),
                    e);
              }
              if (!restored.isEmpty()) {
                context.publishReportEntry(
                    "upcie.restored",
                    restored.stream().map(BindingJournal.Entry::toString).toList().toString());
              }
              return restored;
            });
  }

  /**
   * The device for {@code request}, opened once per scope and closed with the scope's store. On a
   * real machine it holds the function's lock while open; a function the request names by address
   * is bound to the backend's driver first (journaled) and put back when it closes.
   *
   * @throws ExtensionConfigurationException if no backend can serve it (the condition skips such
   *     tests first, so this is a device that went away in between)
   */
  static OpenDevice open(ExtensionContext context, DeviceRequest request) {
    Prepared prepared = prepare(context, request);
    Store store = store(context, request.scope());
    DeviceBackends.Choice choice =
        prepared
            .choice()
            .orElseThrow(
                () -> new ExtensionConfigurationException(prepared.reason().orElseThrow()));
    return store.getOrComputeIfAbsent(
        new DeviceKey(
            scopeId(context, request.scope()),
            choice.backend().name(),
            choice.function().address().toString(),
            // A simulated machine is one of many; a real one is this machine, however reached.
            choice.host().isReal() ? "this machine" : choice.host()),
        k -> {
          OpenDevice opened =
              OpenDevice.open(prepared.backend(), choice, prepared.bindTo(), request);
          context.publishReportEntry("upcie.device", describe(opened));
          return opened;
        },
        OpenDevice.class);
  }

  /** The report entry naming what ran: backend, what chose it, and the function. */
  static String describe(OpenDevice device) {
    return device.choice().backend().name()
        + " (chosen by "
        + device.backend().source()
        + (device.backend().name().equals(DeviceBackends.AUTO) ? ", auto" : "")
        + ") "
        + device.handle().function().summary();
  }

  /** The store a scope keeps its devices in: the context's, its class's, or the root's. */
  static Store store(ExtensionContext context, Scope scope) {
    return switch (scope) {
      case TEST -> context.getStore(PciDeviceExtension.NAMESPACE);
      case CLASS -> classContext(context).getStore(PciDeviceExtension.NAMESPACE);
      case GLOBAL -> context.getRoot().getStore(PciDeviceExtension.NAMESPACE);
    };
  }

  /**
   * Which scope an entry belongs to, part of every key: a store's lookups fall back to its parents'
   * entries, and a test's own device must not be found in its class's store.
   */
  private static String scopeId(ExtensionContext context, Scope scope) {
    return switch (scope) {
      case TEST -> context.getUniqueId();
      case CLASS -> classContext(context).getUniqueId();
      case GLOBAL -> "global";
    };
  }

  /** The innermost class context at or above {@code context}. */
  private static ExtensionContext classContext(ExtensionContext context) {
    for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
      if (c.getTestMethod().isEmpty() && c.getTestClass().isPresent()) {
        return c;
      }
    }
    return context;
  }

  /**
   * The machine {@code backend} looks at: a simulated machine built as the context's {@link
   * SimulatedMachine} says for a backend that needs no kernel driver, else the backend's own (this
   * machine); one per store, so the devices of one scope share a machine.
   */
  private static Host host(
      ExtensionContext context, Store store, String scope, DeviceBackend backend, SimSettings sim) {
    if (backend.driver().isPresent()) {
      Host host = backend.defaultHost();
      if (host.isReal()) {
        recoverOrphans(context, host);
      }
      return host;
    }
    return store
        .getOrComputeIfAbsent(
            new HostKey(scope, backend.name(), sim.key()),
            k -> new MachineResource(sim.create()),
            MachineResource.class)
        .machine();
  }

  private static Optional<Host> sysfsRoot(ExtensionContext context) {
    Optional<String> root = context.getConfigurationParameter(SYSFS_ROOT_PROPERTY);
    if (root.isEmpty()) {
      return Optional.empty();
    }
    Path path = Path.of(root.get());
    if (!Files.isDirectory(path)) {
      throw new ExtensionConfigurationException(
          SYSFS_ROOT_PROPERTY + "=" + root.get() + " is not a directory");
    }
    return Optional.of(Host.of(Sysfs.of(path), Procfs.system(), Path.of("/dev")));
  }

  /**
   * A request's backend, and the function it will open there or why it cannot.
   *
   * @param backend the backend as chosen
   * @param choice the function and machine, if it can
   * @param bindTo the driver to bind the function to first, if it is not bound to it yet
   * @param reason why it cannot, otherwise
   */
  record Prepared(
      BackendChoice backend,
      Optional<DeviceBackends.Choice> choice,
      Optional<String> bindTo,
      Optional<String> reason) {
    static Prepared unavailable(BackendChoice backend, String reason) {
      return new Prepared(backend, Optional.empty(), Optional.empty(), Optional.of(reason));
    }
  }

  /** What makes two requests share a choice. */
  private record Key(String scope, String backend, String selection, String machine) {}

  /** What makes two requests share a device: the same function of the same machine. */
  private record DeviceKey(String scope, String backend, String address, Object machine) {}

  private record HostKey(String scope, String backend, String machine) {}

  /** Closes a simulated machine with its scope. */
  @SuppressWarnings("deprecation") // CloseableResource: JUnit 5 closes only those before 5.13
  private record MachineResource(SimMachine machine)
      implements AutoCloseable, Store.CloseableResource {
    @Override
    public void close() {
      machine.close();
    }
  }
}
