package dev.upcie.junit;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeControllerOptions;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciDeviceLock;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.iommu.SimIommu;
import dev.upcie.sim.model.VirtualTime;
import dev.upcie.support.UpcieException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.extension.ExtensionConfigurationException;
import org.junit.jupiter.api.extension.ExtensionContext.Store;

/**
 * A device the extension opened, kept in the store of its scope and closed with it: the handle, and
 * the NVMe driver brought up on it once an element asks for one.
 *
 * <p>On a real machine it holds the function's {@link PciDeviceLock} while open, and a function it
 * bound to the backend's driver is put back (and its journal entry forgotten) when it closes. On
 * the simulator it knows its machine, for the views only the simulator has, and checks on close
 * that the test unmapped what it mapped for DMA.
 */
@SuppressWarnings("deprecation") // CloseableResource: JUnit 5 closes only those before 5.13
final class OpenDevice implements AutoCloseable, Store.CloseableResource {
  // Long enough for another fork's test to finish with a shared device; the message names it.
  private static final Duration LOCK_TIMEOUT = Duration.ofMinutes(5);

  private final BackendChoice backend;
  private final DeviceBackends.Choice choice;
  private final PciDeviceHandle handle;
  private final Optional<SimMachine> machine;
  private final List<SimIommu.Mapping> mappedAtOpen;
  private final Optional<PciBinding> boundFrom;
  private final PciDeviceLock lock;
  private NvmeController controller;
  private boolean closed;

  private OpenDevice(
      BackendChoice backend,
      DeviceBackends.Choice choice,
      PciDeviceHandle handle,
      Optional<PciBinding> boundFrom,
      PciDeviceLock lock) {
    this.backend = backend;
    this.choice = choice;
    this.handle = handle;
    this.boundFrom = boundFrom;
    this.lock = lock;
    // The simulator's own types: only it has a model and a machine to show.
    this.machine =
        choice.host() instanceof SimMachine m && handle instanceof SimPciDeviceHandle
            ? Optional.of(m)
            : Optional.empty();
    this.mappedAtOpen = machine.map(m -> m.iommu().mappings()).orElse(List.of());
  }

  /**
   * Opens the chosen function: on a real machine under its lock, bound to {@code bindTo} first if
   * given (journaled, so a run that dies mid-test is put right by the next), and everything undone
   * again if opening fails.
   */
  static OpenDevice open(
      BackendChoice backend,
      DeviceBackends.Choice choice,
      Optional<String> bindTo,
      DeviceRequest request) {
    Host host = choice.host();
    PciAddress address = choice.function().address();
    PciDeviceLock lock = host.isReal() ? PciDeviceLock.acquire(host, address, LOCK_TIMEOUT) : null;
    Optional<PciBinding> boundFrom = Optional.empty();
    try {
      if (bindTo.isPresent()) {
        boundFrom =
            Optional.of(
                new PciDriverBinder(host).bind(address, bindTo.get(), BindingJournal.of(host)));
      }
      PciDeviceHandle handle = choice.open();
      return new OpenDevice(backend, choice, handle, boundFrom, lock);
    } catch (UpcieException e) {
      String undone = "";
      if (boundFrom.isPresent()) {
        undone = "; " + restore(host, boundFrom.get());
      }
      if (lock != null) {
        lock.close();
      }
      throw new ExtensionConfigurationException(
          request.where()
              + ": cannot open "
              + choice.function().summary()
              + " on the "
              + choice.backend().name()
              + " backend: "
              + e.getMessage()
              + undone,
          e);
    } catch (RuntimeException e) {
      if (lock != null) {
        lock.close();
      }
      throw e;
    }
  }

  /** Puts the function back as it was; says how that went. */
  private static String restore(Host host, PciBinding original) {
    try {
      new PciDriverBinder(host).restore(original, BindingJournal.of(host));
      return "put it back: " + original;
    } catch (UpcieException e) {
      return "and could not put it back ("
          + e.getMessage()
          + "); the journal "
          + BindingJournal.of(host).directory()
          + " keeps it for the next run or `upcie devbind restore`";
    }
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
    if (boundFrom.isPresent()) {
      try {
        new PciDriverBinder(choice.host())
            .restore(boundFrom.get(), BindingJournal.of(choice.host()));
      } catch (RuntimeException e) {
        failure = addTo(failure, e);
      }
    }
    if (lock != null) {
      lock.close();
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
