package dev.upcie.tools.nvme;

import dev.upcie.backend.DeviceBackends;
import dev.upcie.host.Host;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeVersion;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciSelector;
import dev.upcie.register.RegisterDump;
import dev.upcie.register.RegisterValue;
import dev.upcie.tools.DeviceArgument;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.output.Json;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme show-regs}: reads a controller's registers from BAR0 and decodes them with the
 * register descriptions drivers use ({@link NvmeRegisters}), as {@code nvme show-regs} does through
 * the kernel driver. Reads only; never writes a register.
 */
@Command(
    name = "show-regs",
    mixinStandardHelpOptions = true,
    description = {
      "Read and decode an NVMe controller's registers (CAP, VS, INTMS, INTMC, CC, CSTS, AQA, ASQ,"
          + " ACQ).",
      "With --backend auto (the default) it uses a controller bound to vfio-pci or"
          + " uio_pci_generic if this machine has one, else the simulated QEMU controller."
    })
public final class ShowRegsCommand implements Callable<Integer> {
  @Option(
      names = "--backend",
      paramLabel = "BACKEND",
      description = "auto, sim, uio or vfio (default: auto).")
  String backend = DeviceBackends.AUTO;

  @Option(
      names = "--device",
      paramLabel = "DEVICE",
      description = "The controller: an address or a vendor:device id (default: any NVMe class).")
  String device;

  @Option(names = "--json", description = "Print JSON instead of text.")
  boolean json;

  @Mixin SysfsOption sysfs;

  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() {
    PciSelector selector =
        device == null
            ? PciSelector.any().withClass(PciClassCode.NVME)
            : DeviceArgument.parse(device, sysfs.sysfs());
    try (PciDeviceHandle controller = open(selector)) {
      RegisterDump dump = NvmeRegisters.dump(controller.bar(0));
      PrintWriter out = spec.commandLine().getOut();
      out.print(json ? json(controller, dump) : text(controller, dump));
      out.flush();
    }
    return ExitCode.OK.code();
  }

  private PciDeviceHandle open(PciSelector selector) {
    Optional<Host> named = sysfs.host();
    DeviceBackends.Choice choice =
        DeviceBackends.choose(backend, selector, b -> named.orElseGet(b::defaultHost));
    // Said only when the user may have expected this machine's hardware, not a simulated one.
    if (backend.equalsIgnoreCase(DeviceBackends.AUTO)
        && choice.backend().driver().isEmpty()
        && !sysfs.isSimulated()) {
      spec.commandLine()
          .getErr()
          .println(
              "upcie: no NVMe controller matching "
                  + selector
                  + " is bound to "
                  + String.join(
                      " or ",
                      DeviceBackends.all().stream().flatMap(b -> b.driver().stream()).toList())
                  + " here; showing the simulated QEMU controller (use --backend vfio to require a"
                  + " real one)");
      spec.commandLine().getErr().flush();
    }
    return choice.open();
  }

  private static String text(PciDeviceHandle controller, RegisterDump dump) {
    return String.format("device  %s (%s)%n", controller.function().summary(), controller.backend())
        + dump;
  }

  private static String json(PciDeviceHandle controller, RegisterDump dump) {
    Map<String, Object> device = new LinkedHashMap<>();
    device.put("address", controller.address().toString());
    device.put("id", controller.function().id().toString());
    device.put("backend", controller.backend());
    Map<String, Object> registers = new LinkedHashMap<>();
    for (RegisterValue value : dump.values()) {
      registers.put(value.register().name().toLowerCase(Locale.ROOT), value.value());
    }
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("schema", "upcie.nvme.show-regs/1");
    document.put("device", device);
    document.put("registers", registers);
    document.put("version", new NvmeVersion((int) dump.value(NvmeRegisters.VS).value()).toString());
    return Json.write(document);
  }
}
