package dev.upcie.junit;

import dev.upcie.sim.SimMachine;

/**
 * Builds the simulated machine for {@link SimulatedMachine#factory()}: your own board, with your
 * own device models on it. Implement it in a class with a public no-argument constructor.
 *
 * <pre>{@code
 * public final class MyBoard implements SimMachineFactory {
 *   public SimMachine create(SimulatedMachine.Time time) {
 *     SimMachine.Builder board = SimMachine.qemuQ35Builder("vfio-pci", "vfio-pci");
 *     board.device(SimFunction.builder("0000:00:07.0").iommuGroup(8).driver("vfio-pci"),
 *         new MyDeviceModel());
 *     if (time == SimulatedMachine.Time.VIRTUAL) {
 *       board.virtualTime();
 *     }
 *     return board.build();
 *   }
 * }
 * }</pre>
 */
public interface SimMachineFactory {

  /** A new machine, running on {@code time}; the extension closes it when its scope ends. */
  SimMachine create(SimulatedMachine.Time time);
}
