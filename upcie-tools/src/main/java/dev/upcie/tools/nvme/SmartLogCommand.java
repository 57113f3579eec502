package dev.upcie.tools.nvme;

import static dev.upcie.tools.nvme.NvmeCliFormat.celsius;
import static dev.upcie.tools.nvme.NvmeCliFormat.hex;
import static dev.upcie.tools.nvme.NvmeCliFormat.si;

import dev.upcie.nvme.driver.SmartLog;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.output.Json;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme smart-log}: the SMART / Health Information log of the whole controller, as
 * {@code nvme smart-log} prints it (text, or {@code -o json}'s object with {@code --json}).
 */
@Command(
    name = "smart-log",
    mixinStandardHelpOptions = true,
    description = {
      "SMART / Health log: print the controller's health, temperature and I/O counters as nvme"
          + " smart-log does, for the whole controller (namespace ffffffff).",
      "--json prints nvme smart-log -o json's object (128-bit counters as decimal strings, as"
          + " nvme-cli 2.3).",
      "Example: upcie nvme smart-log 0000:01:00.0"
    })
public final class SmartLogCommand implements Callable<Integer> {
  /** Data units are thousands of 512-byte units. */
  private static final long DATA_UNIT = 1000 * 512;

  @Mixin NvmeTarget target;

  @Option(names = "--json", description = "Print JSON (as nvme smart-log -o json) instead of text.")
  boolean json;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    SmartLog log;
    String name;
    try (OpenController nvme = target.open(spec.commandLine().getErr())) {
      log = nvme.controller().smartLog();
      name = nvme.device().address().toString();
    }
    PrintWriter out = spec.commandLine().getOut();
    out.print(json ? Json.write(json(log)) : text(log, name));
    out.flush();
    return ExitCode.OK.code();
  }

  /** nvme-cli's {@code nvme_show_smart_log}, its tabs included, for the controller's log. */
  static String text(SmartLog log, String device) {
    StringBuilder out = new StringBuilder();
    out.append("Smart Log for NVME device:").append(device).append(" namespace-id:ffffffff\n");
    out.append("critical_warning\t\t\t: ").append(hex(log.criticalWarning())).append('\n');
    out.append("temperature\t\t\t\t: ").append(temperature(log.temperature())).append('\n');
    out.append("available_spare\t\t\t\t: ").append(log.availableSpare()).append("%\n");
    out.append("available_spare_threshold\t\t: ").append(log.spareThreshold()).append("%\n");
    out.append("percentage_used\t\t\t\t: ").append(log.percentageUsed()).append("%\n");
    out.append("endurance group critical warning summary: ")
        .append(hex(log.enduranceGroupWarning()))
        .append('\n');
    out.append("Data Units Read\t\t\t\t: ")
        .append(log.dataUnitsRead())
        .append(" (")
        .append(si(log.dataUnitsRead(), DATA_UNIT))
        .append(")\n");
    out.append("Data Units Written\t\t\t: ")
        .append(log.dataUnitsWritten())
        .append(" (")
        .append(si(log.dataUnitsWritten(), DATA_UNIT))
        .append(")\n");
    out.append("host_read_commands\t\t\t: ").append(log.hostReadCommands()).append('\n');
    out.append("host_write_commands\t\t\t: ").append(log.hostWriteCommands()).append('\n');
    out.append("controller_busy_time\t\t\t: ").append(log.controllerBusyTime()).append('\n');
    out.append("power_cycles\t\t\t\t: ").append(log.powerCycles()).append('\n');
    out.append("power_on_hours\t\t\t\t: ").append(log.powerOnHours()).append('\n');
    out.append("unsafe_shutdowns\t\t\t: ").append(log.unsafeShutdowns()).append('\n');
    out.append("media_errors\t\t\t\t: ").append(log.mediaErrors()).append('\n');
    out.append("num_err_log_entries\t\t\t: ").append(log.errorLogEntries()).append('\n');
    out.append("Warning Temperature Time\t\t: ").append(log.warningTemperatureTime()).append('\n');
    out.append("Critical Composite Temperature Time\t: ")
        .append(log.criticalTemperatureTime())
        .append('\n');
    List<Integer> sensors = log.temperatureSensors();
    for (int i = 0; i < sensors.size(); i++) {
      if (sensors.get(i) == 0) {
        continue; // not reported; nvme-cli prints only the sensors that report
      }
      out.append("Temperature Sensor ")
          .append(i + 1)
          .append("           : ")
          .append(temperature(sensors.get(i)))
          .append('\n');
    }
    return out.toString();
  }

  private static String temperature(int kelvin) {
    return celsius(kelvin) + "°C (" + kelvin + " Kelvin)";
  }

  /** nvme-cli's {@code json_smart_log}, key by key. */
  static Map<String, Object> json(SmartLog log) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("critical_warning", log.criticalWarning());
    o.put("temperature", log.temperature());
    o.put("avail_spare", log.availableSpare());
    o.put("spare_thresh", log.spareThreshold());
    o.put("percent_used", log.percentageUsed());
    o.put("endurance_grp_critical_warning_summary", log.enduranceGroupWarning());
    o.put("data_units_read", log.dataUnitsRead().toString());
    o.put("data_units_written", log.dataUnitsWritten().toString());
    o.put("host_read_commands", log.hostReadCommands().toString());
    o.put("host_write_commands", log.hostWriteCommands().toString());
    o.put("controller_busy_time", log.controllerBusyTime().toString());
    o.put("power_cycles", log.powerCycles().toString());
    o.put("power_on_hours", log.powerOnHours().toString());
    o.put("unsafe_shutdowns", log.unsafeShutdowns().toString());
    o.put("media_errors", log.mediaErrors().toString());
    o.put("num_err_log_entries", log.errorLogEntries().toString());
    o.put("warning_temp_time", log.warningTemperatureTime());
    o.put("critical_comp_time", log.criticalTemperatureTime());
    List<Integer> sensors = log.temperatureSensors();
    for (int i = 0; i < sensors.size(); i++) {
      if (sensors.get(i) != 0) {
        o.put("temperature_sensor_" + (i + 1), sensors.get(i));
      }
    }
    return o;
  }
}
