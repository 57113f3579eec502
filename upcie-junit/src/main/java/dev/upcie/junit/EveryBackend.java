package dev.upcie.junit;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.support.InvalidInputException;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContext;
import org.junit.jupiter.api.extension.TestTemplateInvocationContextProvider;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The runs of an {@link OnEveryBackend} test: one per backend, each pinning its backend in its own
 * store before it starts, where {@link BackendChoice} finds it.
 */
final class EveryBackend implements TestTemplateInvocationContextProvider {

  @Override
  public boolean supportsTestTemplate(ExtensionContext context) {
    return AnnotationSupport.isAnnotated(context.getTestMethod(), OnEveryBackend.class);
  }

  @Override
  public Stream<TestTemplateInvocationContext> provideTestTemplateInvocationContexts(
      ExtensionContext context) {
    OnEveryBackend annotation =
        AnnotationSupport.findAnnotation(context.getTestMethod(), OnEveryBackend.class)
            .orElseThrow();
    List<String> names =
        annotation.value().length == 0
            ? DeviceBackends.names()
            : Stream.of(annotation.value()).map(n -> n.strip().toLowerCase(Locale.ROOT)).toList();
    for (String name : names) {
      try {
        DeviceBackends.named(name);
      } catch (InvalidInputException e) {
        throw new ExtensionConfigurationException(
            "@OnEveryBackend of "
                + context.getRequiredTestMethod().getName()
                + ": "
                + e.getMessage(),
            e);
      }
    }
    return names.stream().map(Run::new);
  }

  /** One backend's run. */
  private record Run(String backend) implements TestTemplateInvocationContext {
    @Override
    public String getDisplayName(int invocationIndex) {
      return "[" + backend + "]";
    }

    @Override
    public void prepareInvocation(ExtensionContext context) {
      context.getStore(PciDeviceExtension.NAMESPACE).put(BackendChoice.PINNED, backend);
    }
  }
}
