package dev.upcie.tools.nvme;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;

/**
 * An NVMe controller brought up by the reference driver, with the function it runs on; closing
 * shuts the controller down, then releases the function, then stops the simulated machine it is on
 * if that machine was made for it.
 *
 * @param choice the backend, machine and function it was opened from
 * @param device the opened function
 * @param controller the driver, brought up
 * @param ownsMachine true if closing stops {@code choice().host()}, a simulated machine no one else
 *     uses
 */
public record OpenController(
    DeviceBackends.Choice choice,
    PciDeviceHandle device,
    NvmeController controller,
    boolean ownsMachine)
    implements AutoCloseable {

  /**
   * Opens {@code choice}'s function and brings its controller up; on failure, closes what it
   * opened.
   *
   * @param keep a machine the caller goes on using (the one {@code --sysfs-root} named), which
   *     closing leaves running; null if none
   */
  public static OpenController open(DeviceBackends.Choice choice, Host keep) {
    boolean owns = choice.host() instanceof SimMachine && choice.host() != keep;
    PciDeviceHandle device = null;
    try {
      device = choice.open();
      return new OpenController(choice, device, NvmeController.open(device), owns);
    } catch (RuntimeException e) {
      try (Stop machine = owns ? stop(choice) : () -> {};
          PciDeviceHandle d = device) {
        // Only releases what was opened.
      } catch (RuntimeException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** True if the controller is the simulator's. */
  public boolean simulated() {
    return NvmeTarget.isSimulated(choice);
  }

  /** {@code 0000:00:05.0 (sim)}: where the controller is, for messages. */
  public String name() {
    return device.address() + " (" + device.backend() + ")";
  }

  @Override
  public void close() {
    try (Stop machine = ownsMachine ? stop(choice) : () -> {};
        PciDeviceHandle d = device;
        NvmeController c = controller) {
      // Closed in reverse: the controller, the function, then a simulated machine's clock.
    }
  }

  private static Stop stop(DeviceBackends.Choice choice) {
    return ((SimMachine) choice.host())::close;
  }

  /** A close that throws nothing checked. */
  private interface Stop extends AutoCloseable {
    @Override
    void close();
  }
}
