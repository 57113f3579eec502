package dev.upcie.junit;

import dev.upcie.junit.PciDevice.Scope;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.UpcieException;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Executable;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/**
 * One {@link PciDevice} element, checked: what it selects, which backend its annotation names, its
 * scope, and what view of the device its type asks for.
 *
 * @param where the element, as messages name it: {@code @PciDevice parameter [nvme] of X.test}
 * @param selector the functions it selects
 * @param selection the selection as written, the key under which alike elements share a device
 * @param annotatedBackend the annotation's backend, empty for none
 * @param scope how long the device stays open
 * @param view what the element's type asks for
 * @param bar the BAR a {@link DeviceView#BAR} element gets
 */
record DeviceRequest(
    String where,
    PciSelector selector,
    String selection,
    Optional<String> annotatedBackend,
    Scope scope,
    DeviceView view,
    int bar) {

  /** Configuration parameter prefix of named devices: {@code upcie.device.<name>}. */
  static final String NAMED_DEVICE_PREFIX = "upcie.device.";

  /** The request of a parameter; {@code config} reads the run's configuration parameters. */
  static DeviceRequest of(
      Parameter parameter, int index, Function<String, Optional<String>> config) {
    Executable executable = parameter.getDeclaringExecutable();
    String name = parameter.isNamePresent() ? parameter.getName() : "#" + index;
    String where =
        "@PciDevice parameter ["
            + name
            + "] of "
            + executable.getDeclaringClass().getSimpleName()
            + "."
            + (executable instanceof Constructor<?> ? "<init>" : executable.getName());
    return of(parameter, parameter.getType(), where, config);
  }

  /** The request of a field. */
  static DeviceRequest of(Field field, Function<String, Optional<String>> config) {
    boolean isStatic = Modifier.isStatic(field.getModifiers());
    String where =
        "@PciDevice "
            + (isStatic ? "static " : "")
            + "field ["
            + field.getName()
            + "] of "
            + field.getDeclaringClass().getSimpleName();
    if (Modifier.isFinal(field.getModifiers())) {
      throw new ExtensionConfigurationException(where + " must not be final");
    }
    DeviceRequest request = of(field, field.getType(), where, config);
    if (isStatic && request.scope == Scope.TEST) {
      throw new ExtensionConfigurationException(
          where
              + " has scope TEST, but a static field lives as long as its class: declare scope ="
              + " CLASS (or GLOBAL), or make it an instance field");
    }
    return request;
  }

  private static DeviceRequest of(
      AnnotatedElement element,
      Class<?> type,
      String where,
      Function<String, Optional<String>> config) {
    PciDevice annotation = element.getAnnotation(PciDevice.class);
    if (annotation == null) {
      // A composed annotation carrying @PciDevice.
      annotation =
          org.junit.platform.commons.support.AnnotationSupport.findAnnotation(
                  element, PciDevice.class)
              .orElseThrow();
    }
    DeviceView view = DeviceView.of(type, where);
    String selection = selection(annotation, where, config);
    PciSelector selector;
    try {
      selector = selector(selection);
    } catch (UpcieException e) {
      throw new ExtensionConfigurationException(where + ": " + e.getMessage(), e);
    }
    if (annotation.bar() < 0 || annotation.bar() > 5) {
      throw new ExtensionConfigurationException(
          where + " asks for BAR " + annotation.bar() + "; a function has BARs 0 to 5");
    }
    if (annotation.bar() != 0 && view != DeviceView.BAR) {
      throw new ExtensionConfigurationException(
          where + " gives bar = " + annotation.bar() + ", which only an Mmio element uses");
    }
    Optional<String> backend =
        annotation.backend().isBlank()
            ? Optional.empty()
            : Optional.of(annotation.backend().strip().toLowerCase(Locale.ROOT));
    return new DeviceRequest(
        where, selector, selection, backend, annotation.scope(), view, annotation.bar());
  }

  /**
   * The selection as one string of {@code key=value} criteria: the annotation's own, then a named
   * device's from the configuration.
   */
  private static String selection(
      PciDevice annotation, String where, Function<String, Optional<String>> config) {
    StringBuilder criteria = new StringBuilder();
    append(criteria, "address", annotation.address());
    append(criteria, "id", annotation.id());
    append(criteria, "class", annotation.classCode());
    if (!annotation.name().isBlank()) {
      String key = NAMED_DEVICE_PREFIX + annotation.name().strip();
      String named =
          config
              .apply(key)
              .orElseThrow(() ->
                  new ExtensionConfigurationException(
                      where
                          + " names the device \""
                          + annotation.name().strip()
                          + "\", but the run does not define it: set the configuration parameter"
                          + " or system property "
                          + key
                          + " (for example "
                          + key
                          + "=address=0000:00:05.0 or "
                          + key
                          + "=id=1b36:0010,class=010802)"));
      for (String criterion : named.split(",")) {
        String c = criterion.strip();
        if (c.isEmpty()) {
          continue;
        }
        int eq = c.indexOf('=');
        if (eq < 0) {
          // A bare value: an id has a colon and four hex digits after it, an address ends .f
          c = (c.matches("[0-9a-fA-F]{4}:[0-9a-fA-F]{4}") ? "id=" : "address=") + c;
        }
        criteria.append(criteria.isEmpty() ? "" : ",").append(c);
      }
    }
    if (criteria.isEmpty()) {
      throw new ExtensionConfigurationException(
          where + " selects nothing: give an address, an id, a classCode or a name");
    }
    return criteria.toString();
  }

  private static void append(StringBuilder criteria, String key, String value) {
    if (!value.isBlank()) {
      criteria.append(criteria.isEmpty() ? "" : ",").append(key).append('=').append(value.strip());
    }
  }

  /** Parses {@code key=value} criteria: {@code address}, {@code id}, {@code class}. */
  private static PciSelector selector(String selection) {
    PciSelector selector = PciSelector.any();
    for (String criterion : selection.split(",")) {
      int eq = criterion.indexOf('=');
      String key = criterion.substring(0, eq).strip().toLowerCase(Locale.ROOT);
      String value = criterion.substring(eq + 1).strip();
      selector =
          switch (key) {
            case "address" -> selector.withAddress(PciAddress.parse(value));
            case "id" -> selector.withId(PciId.parse(value));
            case "class" -> selector.withClass(value);
            default ->
                throw new ExtensionConfigurationException(
                    "\"" + criterion + "\" is not a device criterion: use address=, id= or class=");
          };
    }
    return selector;
  }
}
