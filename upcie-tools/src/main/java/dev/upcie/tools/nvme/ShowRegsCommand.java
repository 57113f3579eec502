package dev.upcie.tools.nvme;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCap;
import dev.upcie.nvme.NvmeCc;
import dev.upcie.nvme.NvmeCsts;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeVersion;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciSelector;
import dev.upcie.sim.Backend;
import dev.upcie.sim.SimMachine;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.tools.DeviceArgument;
import dev.upcie.tools.ExitCode;
import dev.upcie.tools.SysfsOption;
import dev.upcie.tools.output.Json;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code upcie nvme show-regs}: reads a controller's registers from BAR0 and decodes them, as
 * {@code nvme show-regs} does through the kernel driver. Reads only; never writes a register.
 */
@Command(
    name = "show-regs",
    mixinStandardHelpOptions = true,
    description = {
      "Read and decode an NVMe controller's registers (CAP, VS, CC, CSTS, AQA, ASQ, ACQ).",
      "With --backend auto (the default) it uses a controller bound to vfio-pci if this machine"
          + " has one, else the simulated QEMU controller."
    })
public final class ShowRegsCommand implements Callable<Integer> {
  @Option(
      names = "--backend",
      paramLabel = "BACKEND",
      description = "auto, sim or vfio (default: auto).")
  Backend backend = Backend.AUTO;

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
            : DeviceArgument.parse(device);
    try (PciDeviceHandle controller = open(selector)) {
      Mmio bar0 = controller.bar(0);
      Registers registers =
          new Registers(
              new NvmeCap(bar0.getLongVolatile(NvmeRegisters.CAP)),
              new NvmeVersion(bar0.getIntVolatile(NvmeRegisters.VS)),
              new NvmeCc(bar0.getIntVolatile(NvmeRegisters.CC)),
              new NvmeCsts(bar0.getIntVolatile(NvmeRegisters.CSTS)),
              bar0.getIntVolatile(NvmeRegisters.AQA),
              bar0.getLongVolatile(NvmeRegisters.ASQ),
              bar0.getLongVolatile(NvmeRegisters.ACQ));
      PrintWriter out = spec.commandLine().getOut();
      out.print(json ? json(controller, registers) : text(controller, registers));
      out.flush();
    }
    return ExitCode.OK.code();
  }

  private PciDeviceHandle open(PciSelector selector) {
    Sysfs host = sysfs.sysfs();
    Backend effective = backend.resolve(selector, host);
    if (backend == Backend.AUTO && effective == Backend.SIM) {
      spec.commandLine()
          .getErr()
          .println(
              "upcie: no NVMe controller matching "
                  + selector
                  + " is bound to vfio-pci here; showing the simulated QEMU controller"
                  + " (use --backend vfio to require a real one)");
      spec.commandLine().getErr().flush();
    }
    return effective.open(selector, host, SimMachine::qemuQ35);
  }

  private static String text(PciDeviceHandle controller, Registers r) {
    NvmeCap cap = r.cap();
    NvmeCc cc = r.cc();
    NvmeCsts csts = r.csts();
    StringBuilder out = new StringBuilder();
    out.append(
        String.format("device  %s (%s)%n", controller.function().summary(), controller.backend()));
    out.append(
        String.format(
            "cap     0x%016x  mqes=%d cqr=%d ams=%d to=%d (%d ms) dstrd=%d nssrs=%d css=0x%02x"
                + " mpsmin=%d mpsmax=%d cmbs=%d pmrs=%d%n",
            cap.value(),
            cap.mqes(),
            bit(cap.cqr()),
            cap.ams(),
            cap.to(),
            cap.readyTimeout().toMillis(),
            cap.dstrd(),
            bit(cap.nssrs()),
            cap.css(),
            cap.mpsmin(),
            cap.mpsmax(),
            bit(cap.cmbs()),
            bit(cap.pmrs())));
    out.append(String.format("vs      0x%08x          %s%n", r.vs().value(), r.vs()));
    out.append(
        String.format(
            "cc      0x%08x          en=%d css=%d mps=%d ams=%d shn=%d iosqes=%d iocqes=%d%n",
            cc.value(),
            bit(cc.en()),
            cc.css(),
            cc.mps(),
            cc.ams(),
            cc.shn(),
            cc.iosqes(),
            cc.iocqes()));
    out.append(
        String.format(
            "csts    0x%08x          rdy=%d cfs=%d shst=%d nssro=%d pp=%d%s%n",
            csts.value(),
            bit(csts.rdy()),
            bit(csts.cfs()),
            csts.shst(),
            bit(csts.nssro()),
            bit(csts.pp()),
            csts.isAllOnes() ? "  (all ones: the device did not answer)" : ""));
    out.append(
        String.format(
            "aqa     0x%08x          asqs=%d acqs=%d%n",
            r.aqa(), r.aqa() & 0xfff, (r.aqa() >>> 16) & 0xfff));
    out.append(String.format("asq     0x%016x%n", r.asq()));
    out.append(String.format("acq     0x%016x%n", r.acq()));
    return out.toString();
  }

  private static String json(PciDeviceHandle controller, Registers r) {
    Map<String, Object> device = new LinkedHashMap<>();
    device.put("address", controller.address().toString());
    device.put("id", controller.function().id().toString());
    device.put("backend", controller.backend());
    Map<String, Object> registers = new LinkedHashMap<>();
    registers.put("cap", r.cap().value());
    registers.put("vs", Integer.toUnsignedLong(r.vs().value()));
    registers.put("cc", Integer.toUnsignedLong(r.cc().value()));
    registers.put("csts", Integer.toUnsignedLong(r.csts().value()));
    registers.put("aqa", Integer.toUnsignedLong(r.aqa()));
    registers.put("asq", r.asq());
    registers.put("acq", r.acq());
    Map<String, Object> document = new LinkedHashMap<>();
    document.put("schema", "upcie.nvme.show-regs/1");
    document.put("device", device);
    document.put("registers", registers);
    document.put("version", r.vs().toString());
    return Json.write(document);
  }

  private static int bit(boolean value) {
    return value ? 1 : 0;
  }

  private record Registers(
      NvmeCap cap, NvmeVersion vs, NvmeCc cc, NvmeCsts csts, int aqa, long asq, long acq) {}
}
