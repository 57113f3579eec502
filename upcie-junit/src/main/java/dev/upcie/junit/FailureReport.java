package dev.upcie.junit;

import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.driver.NvmeCommandRecord;
import dev.upcie.pci.PciClassCode;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.model.VirtualTime;
import dev.upcie.sim.trace.TraceEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * What the devices of a failed test show, attached to its failure as a suppressed {@link
 * DeviceState}: for each device, the backend and what chose it, the simulated machine (how it was
 * built, its clock, its last trace events and DMA faults), an NVMe controller's registers, and the
 * driver's last commands when the test used it.
 */
final class FailureReport {
  private FailureReport() {}

  /** {@code failure} with the report of {@code context}'s devices attached, if it used any. */
  static Throwable attach(ExtensionContext context, Throwable failure) {
    List<OpenDevice> devices = new ArrayList<>();
    for (ExtensionContext c = context; c != null; c = c.getParent().orElse(null)) {
      Uses.existing(c)
          .ifPresent(uses ->
              uses.devices()
                  .forEach(d -> {
                    if (!devices.contains(d)) {
                      devices.add(d);
                    }
                  }));
    }
    if (devices.isEmpty()) {
      return failure;
    }
    for (Throwable suppressed : failure.getSuppressed()) {
      if (suppressed instanceof DeviceState) {
        return failure;
      }
    }
    int events = PciDeviceExtension.Settings.of(context).traceEvents();
    StringBuilder text = new StringBuilder();
    for (OpenDevice device : devices) {
      text.append(System.lineSeparator()).append(describe(device, events, context));
    }
    failure.addSuppressed(new DeviceState(text.toString()));
    return failure;
  }

  private static String describe(OpenDevice device, int events, ExtensionContext context) {
    StringBuilder s = new StringBuilder();
    s.append(Devices.describe(device)).append(System.lineSeparator());
    device
        .machine()
        .ifPresent(machine -> {
          SimSettings settings = SimSettings.of(context);
          s.append("  machine: ").append(settings.describe());
          if (machine.scheduler() instanceof VirtualTime time) {
            s.append(String.format(Locale.ROOT, ", clock at %.6f ms", time.nanoTime() / 1e6));
          }
          s.append(System.lineSeparator());
          s.append("  replay: -D")
              .append(SimSettings.REPLAY_PROPERTY)
              .append('=')
              .append(SimSettings.replay(machine))
              .append(" runs it again on this seed, on virtual time")
              .append(System.lineSeparator());
          machine
              .fatal(device.handle().function().address())
              .ifPresent(reason -> line(s, "  device is dead: " + reason));
        });
    // Taken before the registers are read for the report, so that the trace ends with the test.
    String history = device.machine().map(m -> simulatorHistory(m, events)).orElse("");
    if (device.handle().function().classCode().equals(PciClassCode.NVME)) {
      s.append("  registers:").append(System.lineSeparator());
      s.append(nvmeRegisters(device));
    }
    device
        .controller()
        .ifPresent(controller -> {
          List<NvmeCommandRecord> commands = controller.history();
          int shown = Math.min(events, commands.size());
          if (shown > 0) {
            line(s, "  last " + shown + " of the driver's commands:");
            for (NvmeCommandRecord command :
                commands.subList(commands.size() - shown, commands.size())) {
              line(s, "    " + command);
            }
          }
        });
    s.append(history);
    return s.toString();
  }

  private static String nvmeRegisters(OpenDevice device) {
    StringBuilder s = new StringBuilder();
    try {
      NvmeRegisters.dump(device.handle().bar(0)).lines().forEach(l -> line(s, "    " + l));
    } catch (RuntimeException e) {
      line(s, "    (cannot read them: " + e.getMessage() + ")");
    }
    return s.toString();
  }

  private static String simulatorHistory(SimMachine machine, int wanted) {
    StringBuilder s = new StringBuilder();
    List<String> faults = Uses.since(machine, 0);
    if (!faults.isEmpty()) {
      line(s, "  DMA faults (" + machine.iommu().faultCount() + "):");
      faults
          .subList(Math.max(0, faults.size() - 10), faults.size())
          .forEach(f -> line(s, "    " + f));
    }
    List<TraceEvent> trace = machine.trace().events();
    long recorded = machine.trace().recorded();
    int shown = Math.min(wanted, trace.size());
    if (shown > 0) {
      line(s, "  last " + shown + " of " + recorded + " trace events:");
      for (TraceEvent event : trace.subList(trace.size() - shown, trace.size())) {
        line(s, "    " + event);
      }
    }
    return s.toString();
  }

  private static void line(StringBuilder s, String text) {
    s.append(text).append(System.lineSeparator());
  }

  /**
   * The state of a failed test's devices, carried as a suppressed exception so that the failure
   * keeps its own type (and an IDE its expected/actual view).
   */
  static final class DeviceState extends RuntimeException {
    private static final long serialVersionUID = 1L;

    DeviceState(String text) {
      super("the test's devices:" + text, null, false, false);
    }
  }
}
