package dev.upcie.junit;

import dev.upcie.junit.SimulatedMachine.Time;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.nvme.NamespaceOptions;
import dev.upcie.sim.nvme.NvmeOptions;
import dev.upcie.support.Sizes;
import dev.upcie.support.UpcieException;
import java.lang.reflect.AnnotatedElement;
import java.lang.reflect.InvocationTargetException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.platform.commons.support.AnnotationSupport;

/**
 * The simulated machine a context asks for, from the nearest {@link SimulatedMachine}: method, then
 * class, then enclosing classes. Equal settings build equal machines, so they key the machine in a
 * store.
 *
 * @param where the annotated element, for messages
 * @param preset the built-in machine
 * @param recording a recording file or class path resource, empty for none
 * @param factory the user's factory, {@link SimMachineFactory} itself for none
 * @param time the clock
 * @param namespaces the preset's NVMe namespaces, empty for QEMU's
 * @param mdts the preset's MDTS, -1 for QEMU's
 * @param readyDelay the preset's CSTS.RDY delay, empty for none
 */
record SimSettings(
    String where,
    String preset,
    String recording,
    Class<? extends SimMachineFactory> factory,
    Time time,
    List<String> namespaces,
    int mdts,
    String readyDelay) {

  static final String QEMU_Q35_VFIO = "qemu-q35-vfio";
  static final String QEMU_Q35 = "qemu-q35";

  private static final SimSettings DEFAULT =
      new SimSettings(
          "the default", QEMU_Q35_VFIO, "", SimMachineFactory.class, Time.REAL, List.of(), -1, "");
  private static final Pattern NAMESPACE =
      Pattern.compile("\\s*([^/\\s]+)\\s*(?:/\\s*(\\d+))?\\s*");
  private static final Pattern DURATION = Pattern.compile("\\s*(\\d+)\\s*(ns|us|ms|s)\\s*");

  /** The settings for {@code context}: of its method, else its class or an enclosing one. */
  static SimSettings of(ExtensionContext context) {
    for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
      Optional<AnnotatedElement> e = c.getElement();
      if (e.isEmpty()) {
        continue;
      }
      Optional<SimulatedMachine> found =
          AnnotationSupport.findAnnotation(e.get(), SimulatedMachine.class);
      if (found.isPresent()) {
        return of(found.get(), "@SimulatedMachine of " + name(e.get()));
      }
    }
    return DEFAULT;
  }

  private static String name(AnnotatedElement element) {
    return element instanceof Class<?> c
        ? c.getSimpleName()
        : element instanceof java.lang.reflect.Method m
            ? m.getDeclaringClass().getSimpleName() + "." + m.getName()
            : element.toString();
  }

  private static SimSettings of(SimulatedMachine machine, String where) {
    SimSettings settings =
        new SimSettings(
            where,
            machine.preset().strip(),
            machine.recording().strip(),
            machine.factory(),
            machine.time(),
            List.of(machine.namespaces()),
            machine.mdts(),
            machine.readyDelay().strip());
    settings.check();
    return settings;
  }

  /** Fails on settings that cannot build a machine, before any test runs on them. */
  private void check() {
    int sources = (recording.isEmpty() ? 0 : 1) + (factory == SimMachineFactory.class ? 0 : 1);
    if (sources > 1) {
      throw new ExtensionConfigurationException(
          where + " gives both a recording and a factory: choose one");
    }
    if (!preset.equals(QEMU_Q35_VFIO) && !preset.equals(QEMU_Q35)) {
      throw new ExtensionConfigurationException(
          where
              + " names the preset \""
              + preset
              + "\"; the presets are "
              + QEMU_Q35_VFIO
              + " and "
              + QEMU_Q35);
    }
    if (factory != SimMachineFactory.class
        && (!namespaces.isEmpty() || mdts >= 0 || !readyDelay.isEmpty())) {
      throw new ExtensionConfigurationException(
          where
              + " gives NVMe options with a factory: the factory builds its own controller;"
              + " set them there");
    }
    nvmeOptions();
  }

  /** The NVMe controller's options: QEMU's, changed as the annotation says. */
  NvmeOptions nvmeOptions() {
    NvmeOptions.Builder options = NvmeOptions.defaults().toBuilder();
    try {
      if (!namespaces.isEmpty()) {
        options.noNamespaces();
        for (String namespace : namespaces) {
          Matcher m = NAMESPACE.matcher(namespace);
          if (!m.matches()) {
            throw new IllegalArgumentException(
                "\""
                    + namespace
                    + "\" is not a namespace: give a size and an optional LBA size,"
                    + " such as 64M or 1G/4096");
          }
          int block = m.group(2) == null ? 512 : Integer.parseInt(m.group(2));
          options.namespace(NamespaceOptions.sparse(Sizes.parse(m.group(1)), block));
        }
      }
      if (mdts >= 0) {
        options.mdts(mdts);
      }
      if (!readyDelay.isEmpty()) {
        options.readyDelay(duration(readyDelay));
      }
      return options.build();
    } catch (IllegalArgumentException | UpcieException e) {
      throw new ExtensionConfigurationException(where + ": " + e.getMessage(), e);
    }
  }

  private static Duration duration(String text) {
    Matcher m = DURATION.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException(
          "\"" + text + "\" is not a duration: give a number and ns, us, ms or s, such as 500ms");
    }
    long n = Long.parseLong(m.group(1));
    return switch (m.group(2)) {
      case "ns" -> Duration.ofNanos(n);
      case "us" -> Duration.ofNanos(n * 1_000);
      case "ms" -> Duration.ofMillis(n);
      default -> Duration.ofSeconds(n);
    };
  }

  /** A new machine as these settings say. */
  SimMachine create() {
    if (factory != SimMachineFactory.class) {
      SimMachineFactory instance;
      try {
        instance = factory.getDeclaredConstructor().newInstance();
      } catch (InvocationTargetException e) {
        throw new ExtensionConfigurationException(
            where + ": " + factory.getName() + "'s constructor failed: " + e.getCause(),
            e.getCause());
      } catch (ReflectiveOperationException | RuntimeException e) {
        throw new ExtensionConfigurationException(
            where
                + ": cannot make a "
                + factory.getName()
                + "; give it a public no-argument constructor (and make the class public, and"
                + " static if it is nested)",
            e);
      }
      SimMachine machine = instance.create(time);
      if (machine == null) {
        throw new ExtensionConfigurationException(
            where + ": " + factory.getName() + ".create returned null");
      }
      return machine;
    }
    SimMachine.Builder builder =
        recording.isEmpty()
            ? preset.equals(QEMU_Q35)
                ? SimMachine.qemuQ35Builder("nvme", null, nvmeOptions())
                : SimMachine.qemuQ35Builder("vfio-pci", "vfio-pci", nvmeOptions())
            : SimMachine.fromRecordingBuilder(recordingFile(), nvmeOptions());
    if (time == Time.VIRTUAL) {
      builder.virtualTime();
    }
    return builder.build();
  }

  /** The recording: a file, else a class path resource. */
  private Path recordingFile() {
    Path file = Path.of(recording);
    if (Files.isRegularFile(file)) {
      return file;
    }
    URL resource = Thread.currentThread().getContextClassLoader().getResource(recording);
    if (resource == null && recording.startsWith("/")) {
      resource = Thread.currentThread().getContextClassLoader().getResource(recording.substring(1));
    }
    if (resource != null && resource.getProtocol().equals("file")) {
      try {
        return Path.of(resource.toURI());
      } catch (URISyntaxException e) {
        // Falls through to the message below.
      }
    }
    throw new ExtensionConfigurationException(
        where
            + " names the recording \""
            + recording
            + "\", which is neither a file (from "
            + Path.of("").toAbsolutePath()
            + ") nor a class path resource in a directory");
  }

  /** What builds the machine, without where it was said: equal keys build equal machines. */
  String key() {
    return describe();
  }

  /** What a failure report says about the machine, and how to build it again. */
  String describe() {
    StringBuilder s = new StringBuilder();
    if (factory != SimMachineFactory.class) {
      s.append("factory ").append(factory.getName());
    } else if (!recording.isEmpty()) {
      s.append("recording ").append(recording);
    } else {
      s.append("preset ").append(preset);
    }
    s.append(", ").append(time == Time.VIRTUAL ? "virtual" : "real").append(" time");
    if (!namespaces.isEmpty()) {
      s.append(", namespaces ").append(String.join(" ", namespaces));
    }
    if (mdts >= 0) {
      s.append(", mdts ").append(mdts);
    }
    if (!readyDelay.isEmpty()) {
      s.append(", ready delay ").append(readyDelay);
    }
    return s.toString();
  }
}
