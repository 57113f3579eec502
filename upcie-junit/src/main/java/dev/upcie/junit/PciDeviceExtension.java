package dev.upcie.junit;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ExtensionContext.Namespace;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

/**
 * The extension behind {@link PciDevice}, registered by the annotation itself.
 *
 * <ul>
 *   <li>Before a class or test runs, it chooses the backend of each element it will need and skips
 *       the class or test with the backend's reason if one cannot serve.
 *   <li>It opens devices in the store of their scope and injects static fields before all tests,
 *       instance fields before each, and parameters as JUnit resolves them; JUnit closes them when
 *       the scope's store closes, in the reverse order they were opened.
 *   <li>A test that fails gets, as a suppressed exception, what its devices show: on the simulator
 *       the machine's last trace events (register accesses, commands, completions, DMA) and DMA
 *       faults; on an NVMe controller its registers.
 *   <li>A test that leaves device resources behind, or during which a simulated device's DMA was
 *       refused, fails ({@link PciDeviceSettings} turns either check off).
 * </ul>
 *
 * <p>Parallel tests may share a device of scope {@code CLASS} or {@code GLOBAL}; JUnit's stores
 * open it once.
 */
final class PciDeviceExtension
    implements ExecutionCondition,
        BeforeAllCallback,
        BeforeEachCallback,
        AfterEachCallback,
        ParameterResolver,
        TestExecutionExceptionHandler,
        LifecycleMethodExecutionExceptionHandler {
  /** Configuration parameter or system property selecting the backend. */
  static final String BACKEND_PROPERTY = BackendChoice.PROPERTY;

  static final Namespace NAMESPACE = Namespace.create(PciDeviceExtension.class);

  /** Store key: whether the test's devices include a real one (its condition found out). */
  private static final String USES_REAL_DEVICE = "usesRealDevice";

  @Override
  public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
    if (context.getTestClass().isEmpty()) {
      return ConditionEvaluationResult.enabled("no test class");
    }
    boolean test = context.getTestMethod().isPresent();
    List<DeviceRequest> requests = test ? Devices.ofTest(context) : Devices.ofClass(context);
    boolean real = false;
    for (DeviceRequest request : requests) {
      Devices.Prepared prepared = Devices.prepare(context, request);
      if (prepared.reason().isPresent()) {
        return ConditionEvaluationResult.disabled(prepared.reason().get());
      }
      real |= prepared.choice().map(c -> c.host().isReal()).orElse(false);
    }
    if (test) {
      // beforeEach reads it rather than collecting and looking up the requests again.
      context.getStore(NAMESPACE).put(USES_REAL_DEVICE, real);
    }
    return ConditionEvaluationResult.enabled("every @PciDevice has a backend that can serve it");
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    Class<?> testClass = context.getRequiredTestClass();
    for (Field field : Devices.fields(testClass, true)) {
      inject(context, null, field);
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    Settings settings = Settings.of(context);
    boolean real = usesRealDevice(context);
    // Taken before any device of the test opens, so it closes after them all.
    if (settings.checkLeaks() && real) {
      context.getStore(NAMESPACE).put(LeakCheck.class, LeakCheck.start());
    }
    if (settings.checkDmaFaults() && real) {
      KernelFaults.watch(context);
    }
    for (Object instance : context.getRequiredTestInstances().getAllInstances()) {
      for (Field field : Devices.fields(instance.getClass(), false)) {
        inject(context, instance, field);
      }
    }
  }

  private static boolean usesRealDevice(ExtensionContext context) {
    Boolean known = context.getStore(NAMESPACE).get(USES_REAL_DEVICE, Boolean.class);
    if (known != null) {
      return known;
    }
    for (DeviceRequest request : Devices.ofTest(context)) {
      Optional<Boolean> real =
          Devices.prepare(context, request).choice().map(c -> c.host().isReal());
      if (real.orElse(false)) {
        return true;
      }
    }
    return false;
  }

  private static void inject(ExtensionContext context, Object instance, Field field) {
    DeviceRequest request = DeviceRequest.of(field, context::getConfigurationParameter);
    OpenDevice device = Devices.open(context, request);
    Object view = device.view(request, field.getType());
    Uses.of(context).add(device);
    try {
      field.setAccessible(true);
      field.set(instance, view);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new ExtensionConfigurationException(
          request.where() + " cannot be set: " + e.getMessage(), e);
    }
  }

  @Override
  public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
    return parameter.isAnnotated(PciDevice.class);
  }

  @Override
  public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
    DeviceRequest request =
        DeviceRequest.of(
            parameter.getParameter(), parameter.getIndex(), context::getConfigurationParameter);
    OpenDevice device = Devices.open(context, request);
    Object view = device.view(request, parameter.getParameter().getType());
    Uses.of(context).add(device);
    return view;
  }

  @Override
  public void afterEach(ExtensionContext context) {
    if (context.getExecutionException().isPresent() || !Settings.of(context).checkDmaFaults()) {
      return;
    }
    List<String> faults = new ArrayList<>();
    List<OpenDevice> used = new ArrayList<>();
    for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
      faults.addAll(Uses.existing(c).map(Uses::newDmaFaults).orElse(List.of()));
      Uses.existing(c).ifPresent(u -> used.addAll(u.devices()));
    }
    List<String> refused = KernelFaults.since(context, used);
    if (!refused.isEmpty()) {
      throw new AssertionError(
          "the IOMMU refused "
              + refused.size()
              + " DMA access"
              + (refused.size() == 1 ? "" : "es")
              + " of the test's devices, as the kernel log says"
              + " (@PciDeviceSettings(checkDmaFaults = false) if that is what it tests):\n  "
              + String.join("\n  ", refused));
    }
    if (!faults.isEmpty()) {
      throw new AssertionError(
          "the simulated IOMMU refused "
              + faults.size()
              + " DMA access"
              + (faults.size() == 1 ? "" : "es")
              + " during the test (@PciDeviceSettings(checkDmaFaults = false) if that is what it"
              + " tests):\n  "
              + String.join("\n  ", faults));
    }
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable throwable)
      throws Throwable {
    throw FailureReport.attach(context, throwable);
  }

  @Override
  public void handleBeforeAllMethodExecutionException(ExtensionContext context, Throwable throwable)
      throws Throwable {
    throw FailureReport.attach(context, throwable);
  }

  @Override
  public void handleBeforeEachMethodExecutionException(
      ExtensionContext context, Throwable throwable) throws Throwable {
    throw FailureReport.attach(context, throwable);
  }

  @Override
  public void handleAfterEachMethodExecutionException(ExtensionContext context, Throwable throwable)
      throws Throwable {
    throw FailureReport.attach(context, throwable);
  }

  @Override
  public void handleAfterAllMethodExecutionException(ExtensionContext context, Throwable throwable)
      throws Throwable {
    throw FailureReport.attach(context, throwable);
  }

  /** The checks and reports a context asks for, from the nearest {@link PciDeviceSettings}. */
  record Settings(boolean checkLeaks, boolean checkDmaFaults, int traceEvents) {
    private static final Settings DEFAULT = new Settings(true, true, 40);

    static Settings of(ExtensionContext context) {
      for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
        Optional<PciDeviceSettings> found =
            c.getElement()
                .flatMap(e ->
                    org.junit.platform.commons.support.AnnotationSupport.findAnnotation(
                        e, PciDeviceSettings.class));
        if (found.isPresent()) {
          PciDeviceSettings s = found.get();
          return new Settings(s.checkLeaks(), s.checkDmaFaults(), Math.max(0, s.traceEvents()));
        }
      }
      return DEFAULT;
    }
  }
}
