package dev.upcie.nvme.driver;

import static dev.upcie.nvme.driver.Bytes.u128;
import static dev.upcie.nvme.driver.Bytes.u16;
import static dev.upcie.nvme.driver.Bytes.u32;
import static dev.upcie.nvme.driver.Bytes.u8;

import java.lang.foreign.MemorySegment;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;

/**
 * The SMART / Health Information log page (02h), decoded. Component javadocs give the key {@code
 * nvme smart-log -o json} prints each under.
 *
 * @param criticalWarning critical_warning: bit flags, 0 when healthy
 * @param temperature temperature: composite, kelvin
 * @param availableSpare avail_spare: percent
 * @param spareThreshold spare_thresh: percent
 * @param percentageUsed percent_used
 * @param enduranceGroupWarning endurance_grp_critical_warning_summary
 * @param dataUnitsRead data_units_read: thousands of 512-byte units
 * @param dataUnitsWritten data_units_written: thousands of 512-byte units
 * @param hostReadCommands host_read_commands
 * @param hostWriteCommands host_write_commands
 * @param controllerBusyTime controller_busy_time: minutes
 * @param powerCycles power_cycles
 * @param powerOnHours power_on_hours
 * @param unsafeShutdowns unsafe_shutdowns
 * @param mediaErrors media_errors
 * @param errorLogEntries num_err_log_entries
 * @param warningTemperatureTime warning_temp_time: minutes
 * @param criticalTemperatureTime critical_comp_time: minutes
 * @param temperatureSensors temperature_sensor_1 to _8 in order, kelvin; 0 where a sensor does not
 *     report
 */
public record SmartLog(
    int criticalWarning,
    int temperature,
    int availableSpare,
    int spareThreshold,
    int percentageUsed,
    int enduranceGroupWarning,
    BigInteger dataUnitsRead,
    BigInteger dataUnitsWritten,
    BigInteger hostReadCommands,
    BigInteger hostWriteCommands,
    BigInteger controllerBusyTime,
    BigInteger powerCycles,
    BigInteger powerOnHours,
    BigInteger unsafeShutdowns,
    BigInteger mediaErrors,
    BigInteger errorLogEntries,
    long warningTemperatureTime,
    long criticalTemperatureTime,
    List<Integer> temperatureSensors) {

  /** The page's size. */
  static final int SIZE = 512;

  /** Copies the list. */
  public SmartLog {
    temperatureSensors = List.copyOf(temperatureSensors);
  }

  static SmartLog decode(MemorySegment d) {
    List<Integer> sensors = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      sensors.add(u16(d, 200 + 2L * i));
    }
    return new SmartLog(
        u8(d, 0),
        u16(d, 1),
        u8(d, 3),
        u8(d, 4),
        u8(d, 5),
        u8(d, 6),
        u128(d, 32),
        u128(d, 48),
        u128(d, 64),
        u128(d, 80),
        u128(d, 96),
        u128(d, 112),
        u128(d, 128),
        u128(d, 144),
        u128(d, 160),
        u128(d, 176),
        u32(d, 192),
        u32(d, 196),
        sensors);
  }
}
