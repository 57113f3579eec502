package dev.upcie.sim.model;

import dev.upcie.sim.mmio.RegisterFile;
import dev.upcie.sim.sysfs.SimFunction;
import java.util.Optional;

/**
 * A simulated PCI device: what sits behind a function of a {@link dev.upcie.sim.SimMachine}. The
 * toolkit's models are QEMU's NVMe controller ({@link dev.upcie.sim.nvme.NvmeModel}) and its {@code
 * edu} teaching device ({@link dev.upcie.sim.edu.EduModel}); implement this interface to simulate
 * your own and test your driver against it, on the same seam as the real device.
 *
 * <p>A model declares what enumeration shows (ids, class, BAR sizes, interrupt pin, capabilities)
 * and serves its BARs as {@link RegisterFile}s; once attached it does DMA, signals interrupts and
 * schedules work through its {@link ModelContext}.
 *
 * <pre>{@code
 * final class Counter implements DeviceModel {
 *   static final Register COUNT = new Register("COUNT", 0x0, 4);
 *   static final Register RING = new Register("RING", 0x4, 4);
 *   private ModelContext context;
 *   private final RegisterFile bar0 = RegisterFile.builder("BAR0 of counter", 4096)
 *       .register(COUNT, 0, FieldAccess.RO)
 *       .register(RING, 0, FieldAccess.WO)
 *       .onWrite(RING, value -> context.interrupts().msi(0))
 *       .build();
 *
 *   public SimFunction.Builder declare(SimFunction.Builder function) {
 *     return function.id(0x1234, 0x5678).classCode(0xff0000).bar(0, 4096)
 *         .capability(SimCapability.msi(0x40, 1, true, false));
 *   }
 *   public Optional<RegisterFile> bar(int index) {
 *     return index == 0 ? Optional.of(bar0) : Optional.empty();
 *   }
 *   public void attach(ModelContext context) {
 *     this.context = context;
 *   }
 * }
 * SimMachine machine = SimMachine.builder().driver(SimDriver.overrideOnly("vfio-pci"))
 *     .device(SimFunction.builder("0000:00:07.0").iommuGroup(7).driver("vfio-pci"), new Counter())
 *     .build();
 * }</pre>
 */
public interface DeviceModel {

  /**
   * Declares the device's identity, BARs, interrupt pin and capabilities on {@code function}, which
   * already has the function's place (address, driver, IOMMU group, NUMA node).
   */
  SimFunction.Builder declare(SimFunction.Builder function);

  /** The register file behind memory BAR {@code index}, empty if the device has no such BAR. */
  Optional<RegisterFile> bar(int index);

  /** Called once, when the machine puts the model behind its function, before any access. */
  default void attach(ModelContext context) {}

  /**
   * The highest address bit the device drives, plus one: a DMA above {@code 2^dmaMaskBits()} is
   * refused as a fault. 64 unless overridden.
   */
  default int dmaMaskBits() {
    return 64;
  }

  /**
   * The driver wrote the configuration space at {@code offset} (after the write took effect): a
   * command register change, an MSI-X enable. Nothing by default.
   */
  default void configWritten(int offset, int width, int value) {}

  /** True if the device has a function-level reset ({@link #reset()} works); false by default. */
  default boolean resettable() {
    return false;
  }

  /**
   * Resets the device as its function-level reset does.
   *
   * @throws UnsupportedOperationException unless {@link #resettable()}
   */
  default void reset() {
    throw new UnsupportedOperationException(getClass().getSimpleName() + " has no reset");
  }
}
