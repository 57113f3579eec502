package dev.upcie.it.device;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.nvme.NvmeOpcodes;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.nvme.NvmeOptions;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import java.lang.foreign.ValueLayout;

/**
 * The Identify data a simulated NVMe controller returns, read as a driver reads it: an Identify
 * command on a raw admin queue ({@link RawNvme}), the data DMAed into host memory. The model's own
 * builder stays private to it, so what a comparison sees is what a guest would.
 */
public final class SimulatedIdentify {
  /** Identify CNS 00h: a namespace. */
  public static final int CNS_NAMESPACE = 0x00;

  /** Identify CNS 01h: the controller. */
  public static final int CNS_CONTROLLER = 0x01;

  /** The size of every Identify data structure. */
  public static final int SIZE = 4096;

  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");

  private SimulatedIdentify() {}

  /**
   * Runs Identify {@code cns} for {@code nsid} on a fresh controller built with {@code options} and
   * returns its 4096 bytes.
   *
   * @throws AssertionError if the command fails
   */
  public static byte[] read(NvmeOptions options, int cns, int nsid) {
    try (SimMachine machine =
            SimMachine.builder()
                .driver(SimDriver.overrideOnly("vfio-pci"))
                .device(
                    SimFunction.builder(NVME.toString()).iommuGroup(5).driver("vfio-pci"),
                    new NvmeModel(options))
                .build();
        PciDeviceHandle nvme = machine.open(NVME);
        RawNvme controller = new RawNvme(nvme, 2)) {
      DmaBuffer data = controller.buffer(SIZE);
      RawNvme.Completion completion =
          controller.admin(
              RawNvme.Command.of(NvmeOpcodes.ADMIN_IDENTIFY)
                  .nsid(nsid)
                  .prp1(data.deviceAddress().value())
                  .cdw(10, cns));
      if (completion.status() != 0) {
        throw new AssertionError("Identify CNS " + cns + ", nsid " + nsid + ": " + completion);
      }
      return data.segment().toArray(ValueLayout.JAVA_BYTE);
    }
  }
}
