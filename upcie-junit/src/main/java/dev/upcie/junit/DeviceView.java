package dev.upcie.junit;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.model.DeviceModel;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;

/** What a {@link PciDevice} element's type asks for: which view of the opened device. */
enum DeviceView {
  /** The handle itself, or one backend's handle type. */
  HANDLE(false),
  /** One BAR. */
  BAR(false),
  /** The reference NVMe driver, brought up on the handle. */
  NVME_CONTROLLER(false),
  /** The simulation model behind the function. */
  MODEL(true),
  /** The simulated machine the function is on. */
  MACHINE(true);

  private final boolean simulatorOnly;

  DeviceView(boolean simulatorOnly) {
    this.simulatorOnly = simulatorOnly;
  }

  /** True if only the simulator has it: elsewhere the test is skipped. */
  boolean simulatorOnly() {
    return simulatorOnly;
  }

  /** The view {@code type} asks for. */
  static DeviceView of(Class<?> type, String where) {
    if (type == Mmio.class) {
      return BAR;
    }
    if (type == NvmeController.class) {
      return NVME_CONTROLLER;
    }
    if (type == SimMachine.class) {
      return MACHINE;
    }
    if (DeviceModel.class.isAssignableFrom(type)) {
      return MODEL;
    }
    if (type.isAssignableFrom(PciDeviceHandle.class) && type != Object.class
        || PciDeviceHandle.class.isAssignableFrom(type)) {
      return HANDLE;
    }
    throw new ExtensionConfigurationException(
        where
            + " has type "
            + type.getName()
            + "; declare it as PciDeviceHandle (or one backend's handle type, such as"
            + " SimPciDeviceHandle), Mmio, NvmeController, a DeviceModel (NvmeModel, EduModel) or"
            + " SimMachine");
  }
}
