package dev.upcie.junit;

import java.util.Locale;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The backend a request runs on, and what chose it: the one {@link OnEveryBackend} invocation's,
 * else the run's setting, else the annotation's, else {@code sim}.
 *
 * @param name the backend's name as given (a backend or {@code auto})
 * @param source what chose it, for messages: {@code upcie.backend}, {@code UPCIE_BACKEND}, {@code
 *     the annotation}, {@code the default} or {@code @OnEveryBackend}
 */
record BackendChoice(String name, String source) {
  /** Configuration parameter or system property selecting the backend. */
  static final String PROPERTY = "upcie.backend";

  /** Environment variable selecting the backend when the property is unset. */
  static final String ENV = "UPCIE_BACKEND";

  /** The store key under which an {@link OnEveryBackend} invocation pins its backend. */
  static final String PINNED = "upcie.backend.pinned";

  /** The backend for {@code request} in {@code context}. */
  static BackendChoice of(ExtensionContext context, DeviceRequest request) {
    String pinned = context.getStore(PciDeviceExtension.NAMESPACE).get(PINNED, String.class);
    if (pinned != null) {
      return new BackendChoice(pinned, "@OnEveryBackend");
    }
    Optional<String> configured = context.getConfigurationParameter(PROPERTY);
    if (configured.isPresent() && !configured.get().isBlank()) {
      return new BackendChoice(normal(configured.get()), PROPERTY);
    }
    String env = System.getenv(ENV);
    if (env != null && !env.isBlank()) {
      return new BackendChoice(normal(env), ENV);
    }
    return request
        .annotatedBackend()
        .map(b -> new BackendChoice(b, "the annotation"))
        .orElse(new BackendChoice("sim", "the default"));
  }

  private static String normal(String name) {
    return name.strip().toLowerCase(Locale.ROOT);
  }
}
