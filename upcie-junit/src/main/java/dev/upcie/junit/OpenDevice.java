package dev.upcie.junit;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeControllerOptions;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.iommu.SimIommu;
import dev.upcie.sim.model.VirtualTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext.Store;

/**
 * A device the extension opened, kept in the store of its scope and closed with it: the handle, and
 * the NVMe driver brought up on it once an element asks for one.
 *
 * <p>On the simulator it also knows its machine, for the views only the simulator has, and checks
 * on close that the test unmapped what it mapped for DMA.
 */
@SuppressWarnings("deprecation") // CloseableResource: JUnit 5 closes only those before 5.13
final class OpenDevice implements AutoCloseable, Store.CloseableResource {
  private final BackendChoice backend;
  private final DeviceBackends.Choice choice;
  private final PciDeviceHandle handle;
  private final Optional<SimMachine> machine;
  private final List<SimIommu.Mapping> mappedAtOpen;
  private NvmeController controller;
  private boolean closed;

  OpenDevice(BackendChoice backend, DeviceBackends.Choice choice, PciDeviceHandle handle) {
    this.backend = backend;
    this.choice = choice;
    this.handle = handle;
    // The simulator's own types: only it has a model and a machine to show.
    this.machine =
        choice.host() instanceof SimMachine m && handle instanceof SimPciDeviceHandle
            ? Optional.of(m)
            : Optional.empty();
    this.mappedAtOpen = machine.map(m -> m.iommu().mappings()).orElse(List.of());
  }

  /** The backend as chosen, and why. */
  BackendChoice backend() {
    return backend;
  }

  /** The backend that opened it, the machine and the function. */
  DeviceBackends.Choice choice() {
    return choice;
  }

  PciDeviceHandle handle() {
    return handle;
  }

  /** The simulated machine, empty on a real backend. */
  Optional<SimMachine> machine() {
    return machine;
  }

  /** The NVMe driver, if an element asked for it. */
  synchronized Optional<NvmeController> controller() {
    return Optional.ofNullable(controller);
  }

  /** What {@code request} asks for, of type {@code type}. */
  Object view(DeviceRequest request, Class<?> type) {
    Object view =
        switch (request.view()) {
          case HANDLE -> handle;
          case BAR -> handle.bar(request.bar());
          case NVME_CONTROLLER -> nvmeController();
          case MODEL -> ((SimPciDeviceHandle) handle).model();
          case MACHINE -> machine.orElseThrow();
        };
    if (!type.isInstance(view)) {
      throw new ExtensionConfigurationException(
          request.where()
              + " wants a "
              + type.getSimpleName()
              + ", but the "
              + handle.backend()
              + " backend gives a "
              + view.getClass().getSimpleName()
              + " for "
              + handle.function().summary()
              + "; declare it as "
              + (request.view() == DeviceView.MODEL ? "DeviceModel" : "PciDeviceHandle"));
    }
    return view;
  }

  private synchronized NvmeController nvmeController() {
    if (controller == null) {
      NvmeControllerOptions.Builder options = NvmeControllerOptions.builder();
      // On a virtual clock the driver's waits move the clock, so CAP.TO passes in microseconds.
      machine
          .filter(m -> m.scheduler() instanceof VirtualTime)
          .ifPresent(m -> options.clock(m.virtualTime().waitClock()));
      controller = NvmeController.open(handle, options.build());
    }
    return controller;
  }

  /**
   * Shuts the driver down, closes the handle, and on the simulator fails if the test left DMA
   * mappings behind: a heap or mapping not closed keeps memory the device can still reach.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    Throwable failure = null;
    if (controller != null) {
      try {
        controller.close();
      } catch (RuntimeException e) {
        failure = e;
      }
    }
    try {
      handle.close();
    } catch (RuntimeException e) {
      failure = addTo(failure, e);
    }
    if (machine.isPresent()) {
      List<SimIommu.Mapping> left = new ArrayList<>(machine.get().iommu().mappings());
      left.removeAll(mappedAtOpen);
      if (!left.isEmpty()) {
        failure =
            addTo(
                failure,
                new AssertionError(
                    "the test left "
                        + left.size()
                        + " DMA mapping"
                        + (left.size() == 1 ? "" : "s")
                        + " of "
                        + handle.function().address()
                        + " in the simulated IOMMU (close every DmaHeap and DmaMapping): "
                        + left.stream().map(OpenDevice::describe).toList()));
      }
    }
    if (failure instanceof RuntimeException e) {
      throw e;
    }
    if (failure instanceof Error e) {
      throw e;
    }
  }

  private static String describe(SimIommu.Mapping mapping) {
    return mapping.iova() + " (" + mapping.segment().byteSize() + " bytes)";
  }

  private static Throwable addTo(Throwable first, Throwable next) {
    if (first == null) {
      return next;
    }
    first.addSuppressed(next);
    return first;
  }

  @Override
  public String toString() {
    return handle.backend() + " " + handle.function().summary();
  }
}
