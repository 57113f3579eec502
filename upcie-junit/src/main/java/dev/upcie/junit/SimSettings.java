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
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.WeakHashMap;
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
 * @param jitter the preset's NVMe completion jitter, empty for none
 * @param seed the seed of the machine's random choices, 0 for a fresh one per machine
 */
record SimSettings(
    String where,
    String preset,
    String recording,
    Class<? extends SimMachineFactory> factory,
    Time time,
    List<String> namespaces,
    int mdts,
    String readyDelay,
    String jitter,
    long seed) {

  static final String QEMU_Q35_VFIO = "qemu-q35-vfio";
  static final String QEMU_Q35 = "qemu-q35";

  private static final SimSettings DEFAULT =
      new SimSettings(
          "the default",
          QEMU_Q35_VFIO,
          "",
          SimMachineFactory.class,
          Time.REAL,
          List.of(),
          -1,
          "",
          "",
          0);

  /**
   * Configuration parameter or system property that runs tests again as a failure printed them:
   * {@code seed=N,time=virtual} (either part may be left out).
   */
  static final String REPLAY_PROPERTY = "upcie.sim.replay";

  // The seed each machine was built with, for its failure report.
  private static final Map<SimMachine, Long> SEEDS =
      Collections.synchronizedMap(new WeakHashMap<>());
  private static final Pattern NAMESPACE =
      Pattern.compile("\\s*([^/\\s]+)\\s*(?:/\\s*(\\d+))?\\s*");
  private static final Pattern DURATION = Pattern.compile("\\s*(\\d+)\\s*(ns|us|ms|s)\\s*");

  /** The settings for {@code context}: of its method, else its class or an enclosing one. */
  static SimSettings of(ExtensionContext context) {
    SimSettings settings = annotated(context);
    Optional<String> replay = context.getConfigurationParameter(REPLAY_PROPERTY);
    return replay.isPresent() ? settings.replaying(replay.get()) : settings;
  }

  private static SimSettings annotated(ExtensionContext context) {
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
            machine.readyDelay().strip(),
            machine.jitter().strip(),
            machine.seed());
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
        && (!namespaces.isEmpty() || mdts >= 0 || !readyDelay.isEmpty() || !jitter.isEmpty())) {
      throw new ExtensionConfigurationException(
          where
              + " gives NVMe options with a factory: the factory builds its own controller;"
              + " set them there");
    }
    nvmeOptions();
  }

  /** These settings with the seed and clock of a {@link #REPLAY_PROPERTY} value. */
  private SimSettings replaying(String replay) {
    long replaySeed = seed;
    Time replayTime = time;
    for (String part : replay.split(",")) {
      String p = part.strip();
      if (p.isEmpty()) {
        continue;
      }
      try {
        if (p.startsWith("seed=")) {
          replaySeed = Long.parseLong(p.substring(5).strip());
          continue;
        }
        if (p.startsWith("time=")) {
          replayTime = Time.valueOf(p.substring(5).strip().toUpperCase(java.util.Locale.ROOT));
          continue;
        }
      } catch (IllegalArgumentException e) {
        // Falls through to the message below.
      }
      throw new ExtensionConfigurationException(
          REPLAY_PROPERTY
              + "="
              + replay
              + ": \""
              + p
              + "\" is not seed=N or time=real|virtual (copy the value a failure printed)");
    }
    return new SimSettings(
        where + ", replayed",
        preset,
        recording,
        factory,
        replayTime,
        namespaces,
        mdts,
        readyDelay,
        jitter,
        replaySeed);
  }

  /** The NVMe controller's options for a machine of {@code seed}: QEMU's, changed as asked. */
  NvmeOptions nvmeOptions() {
    return nvmeOptions(seed);
  }

  private NvmeOptions nvmeOptions(long machineSeed) {
    NvmeOptions.Builder options = NvmeOptions.defaults().toBuilder();
    try {
      if (!namespaces.isEmpty()) {
        options.noNamespaces();
        for (String namespace : namespaces) {
          Matcher m = NAMESPACE.matcher(namespace);
          String element = "namespaces = \"" + namespace + "\": ";
          if (!m.matches()) {
            throw new IllegalArgumentException(
                element + "give a size and an optional LBA size, such as 64M or 1G/4096");
          }
          int block = m.group(2) == null ? 512 : Integer.parseInt(m.group(2));
          try {
            options.namespace(NamespaceOptions.sparse(Sizes.parse(m.group(1)), block));
          } catch (IllegalArgumentException | UpcieException e) {
            throw new IllegalArgumentException(element + e.getMessage(), e);
          }
        }
      }
      if (mdts >= 0) {
        options.mdts(mdts);
      }
      if (!readyDelay.isEmpty()) {
        options.readyDelay(duration(readyDelay));
      }
      if (!jitter.isEmpty()) {
        options.completionJitter(duration(jitter), machineSeed);
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

  /** A new machine as these settings say, with the seed it drew if it was to draw one. */
  SimMachine create() {
    long machineSeed =
        seed != 0 ? seed : new java.util.SplittableRandom().nextLong(1, Long.MAX_VALUE);
    SimMachine machine = build(machineSeed);
    SEEDS.put(machine, machineSeed);
    return machine;
  }

  /** The seed {@code machine} was built with; 0 if these settings did not build it. */
  static long seedOf(SimMachine machine) {
    return SEEDS.getOrDefault(machine, 0L);
  }

  /** The value of {@link #REPLAY_PROPERTY} that runs a test again on {@code machine}'s seed. */
  static String replay(SimMachine machine) {
    return "seed=" + seedOf(machine) + ",time=virtual";
  }

  private SimMachine build(long machineSeed) {
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
                ? SimMachine.qemuQ35Builder("nvme", null, nvmeOptions(machineSeed))
                : SimMachine.qemuQ35Builder("vfio-pci", "vfio-pci", nvmeOptions(machineSeed))
            : SimMachine.fromRecordingBuilder(recordingFile(), nvmeOptions(machineSeed));
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
    if (!jitter.isEmpty()) {
      s.append(", completion jitter ").append(jitter);
    }
    if (seed != 0) {
      s.append(", seed ").append(seed);
    }
    return s.toString();
  }
}
