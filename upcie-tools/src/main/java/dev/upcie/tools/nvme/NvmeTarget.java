package dev.upcie.tools.nvme;

import dev.upcie.backend.DeviceBackend;
import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.SimBackend;
import dev.upcie.support.UpcieException;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.UsageException;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Which NVMe controller an {@code upcie nvme} subcommand drives: the optional {@code DEVICE}
 * address, {@code --sim} and {@code --sysfs-root}, shared by every subcommand but {@code
 * show-regs}.
 *
 * <ul>
 *   <li>An address: the function there, through the backend its bound driver calls for ({@code
 *       vfio-pci}: VFIO, {@code uio_pci_generic}: UIO). A function on another driver is refused,
 *       with the commands that hand it over; it is never touched.
 *   <li>No address: the one NVMe controller bound to {@code vfio-pci} or {@code uio_pci_generic};
 *       with several, the user must choose; with none, the simulated QEMU controller.
 *   <li>{@code --sim}: the simulated QEMU controller.
 * </ul>
 *
 * <p>Whenever the controller is a simulated one, one line on stderr says so.
 */
public final class NvmeTarget {
  @Parameters(
      index = "0",
      arity = "0..1",
      paramLabel = "DEVICE",
      description =
          "The controller's PCI address (0000:01:00.0 or 01:00.0), bound to vfio-pci or"
              + " uio_pci_generic. Default: the one controller bound to either, else the"
              + " simulated QEMU controller.")
  String device;

  @Option(names = "--sim", description = "Use the simulated QEMU NVMe controller.")
  boolean sim;

  @Mixin SysfsOption sysfs;

  /**
   * Chooses the controller and says on {@code err} if it is a simulated one.
   *
   * @throws UsageException for a malformed address, or several candidates and no address
   * @throws dev.upcie.pci.PciFunctionNotFoundException if no function has the address
   * @throws UpcieException if the function is bound to a driver user space cannot share
   */
  public DeviceBackends.Choice choose(PrintWriter err) {
    Optional<Host> named = sysfs.host();
    Function<DeviceBackend, Host> hostFor = b -> named.orElseGet(b::defaultHost);
    PciAddress address = device == null ? null : PciAddress.parse(device);
    PciSelector selector =
        address == null
            ? PciSelector.any().withClass(PciClassCode.NVME)
            : PciSelector.any().withAddress(address);
    DeviceBackends.Choice choice;
    String why;
    if (sim) {
      choice = DeviceBackends.choose(SimBackend.NAME, selector, hostFor);
      why = "--sim";
    } else if (address != null) {
      Host host = named.orElseGet(Host::system);
      PciFunction function = host.bus().function(address);
      requireNvme(function);
      if (userSpaceDrivers().stream().noneMatch(function::isBoundTo)) {
        throw new UpcieException(heldElsewhere(function, host));
      }
      choice = DeviceBackends.choose(DeviceBackends.AUTO, selector, hostFor);
      why = "--sysfs-root " + sysfsRoot();
    } else {
      List<PciFunction> bound = boundControllers(named.orElseGet(Host::system));
      if (bound.size() > 1) {
        throw new UsageException(
            bound.size()
                + " NVMe controllers are bound to "
                + String.join(" or ", userSpaceDrivers())
                + " ("
                + String.join(
                    ", ",
                    bound.stream()
                        .map(f -> f.address() + " on " + f.driver().orElseThrow())
                        .toList())
                + "); name one, e.g. upcie nvme id-ctrl "
                + bound.get(0).address());
      }
      if (bound.size() == 1) {
        choice =
            DeviceBackends.choose(
                DeviceBackends.AUTO,
                PciSelector.any().withAddress(bound.get(0).address()),
                hostFor);
        why = "--sysfs-root " + sysfsRoot();
      } else {
        // A fresh simulated machine: the one the user named (if any) has nothing to offer.
        choice = DeviceBackends.choose(SimBackend.NAME, selector, DeviceBackend::defaultHost);
        why = null;
      }
    }
    requireNvme(choice.function());
    if (isSimulated(choice)) {
      err.println(simulatedNote(choice, why));
      err.flush();
    }
    return choice;
  }

  /**
   * Chooses the controller (see {@link #choose}), opens it and brings it up.
   *
   * @throws dev.upcie.nvme.driver.NvmeException if bring-up fails
   */
  public OpenController open(PrintWriter err) {
    return OpenController.open(choose(err), sysfs.host().orElse(null));
  }

  /** Refuses a function that is not a non-volatile memory controller, before it is opened. */
  private static void requireNvme(PciFunction function) {
    if (function.classCode().baseClass() != 0x01 || function.classCode().subClass() != 0x08) {
      throw new UsageException(
          function.address()
              + " is not an NVMe controller: it is "
              + function.classCode().describe()
              + " ("
              + function.classCode()
              + "); find the controllers with: upcie nvme list");
    }
  }

  /** The NVMe-class functions of {@code host} bound to a user-space driver, by address. */
  static List<PciFunction> boundControllers(Host host) {
    List<String> drivers = userSpaceDrivers();
    return nvmeFunctions(host).stream()
        .filter(f -> drivers.stream().anyMatch(f::isBoundTo))
        .toList();
  }

  /** The NVMe-class functions of {@code host}; none where it has no PCI bus to read. */
  static List<PciFunction> nvmeFunctions(Host host) {
    try {
      return host.bus().select(PciSelector.any().withClass(PciClassCode.NVME));
    } catch (UpcieException e) {
      // No bus/pci/devices (a container, an empty tree): no controllers, as DeviceBackends sees it.
      return List.of();
    }
  }

  /** The drivers a backend opens functions through: {@code vfio-pci}, {@code uio_pci_generic}. */
  static List<String> userSpaceDrivers() {
    return DeviceBackends.all().stream().flatMap(b -> b.driver().stream()).toList();
  }

  /** True if the choice is the simulator's: a backend that needs no kernel driver. */
  static boolean isSimulated(DeviceBackends.Choice choice) {
    return choice.backend().driver().isEmpty();
  }

  /**
   * Namespace {@code nsid} of {@code controller}, for I/O.
   *
   * @throws UsageException if it is not an active namespace, naming the ones that are
   */
  static NvmeNamespace namespace(NvmeController controller, int nsid) {
    try {
      return controller.namespace(nsid);
    } catch (IllegalArgumentException e) {
      throw new UsageException(e.getMessage());
    }
  }

  private String sysfsRoot() {
    return sysfs.isSet() ? sysfs.root() : "/sys";
  }

  private String simulatedNote(DeviceBackends.Choice choice, String why) {
    String controller = "the simulated QEMU NVMe controller " + choice.function().address();
    if (why == null) {
      return "upcie: no NVMe controller is bound to "
          + String.join(" or ", userSpaceDrivers())
          + " here; using "
          + controller
          + " (give an address to use a real one)";
    }
    return "upcie: using " + controller + " (" + why + ")";
  }

  /** Why {@code function} cannot be driven from user space, and how to hand it over. */
  private static String heldElsewhere(PciFunction function, Host host) {
    String address = function.address().toString();
    String handOver = new PciBus(host.sysfs()).bindCommands(function, "vfio-pci");
    String now =
        function
            .driver()
            .map(d -> "is bound to " + d + ", which owns it")
            .orElse("is bound to no driver");
    return address
        + " "
        + now
        + "; user space drives only functions bound to "
        + String.join(" or ", userSpaceDrivers())
        + ". To hand it over (anything using it through "
        + function.driver().orElse("its driver")
        + " goes away), as root: "
        + handOver
        + " (check with: upcie devbind list "
        + address
        + ")";
  }
}
