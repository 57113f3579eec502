package dev.upcie.sim.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.interrupt.InterruptMode;
import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.register.Register;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.iommu.DmaAccess;
import dev.upcie.sim.iommu.SimIommu;
import dev.upcie.sim.mmio.FieldAccess;
import dev.upcie.sim.mmio.RegisterFile;
import dev.upcie.sim.sysfs.SimCapability;
import dev.upcie.sim.sysfs.SimDriver;
import dev.upcie.sim.sysfs.SimFunction;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** A user's own device model on a simulated machine: DMA, its faults, MSI-X, its config space. */
class DeviceModelTest {
  private static final PciAddress ADDRESS = PciAddress.parse("0000:00:07.0");

  /** Writes ADDRESS's value (a device address) with a counter, then signals MSI-X vector 1. */
  static final class Stamper implements DeviceModel {
    static final Register TARGET = new Register("TARGET", 0x0, 8);
    static final Register GO = new Register("GO", 0x8, 4);
    private final RegisterFile bar0 =
        RegisterFile.builder("BAR0 of stamper", 4096)
            .register(TARGET, 0, FieldAccess.RW)
            .register(GO, 0, FieldAccess.WO)
            .onWrite(GO, value -> stamp())
            .build();
    private ModelContext context;
    volatile boolean lastWriteOk;

    @Override
    public SimFunction.Builder declare(SimFunction.Builder function) {
      return function
          .id(0x1234, 0x5678)
          .classCode(0xff0000)
          .bar64(0, 4096)
          .capability(SimCapability.msix(0x40, 4, 0, 0x800, 0, 0xc00));
    }

    @Override
    public Optional<RegisterFile> bar(int index) {
      return index == 0 ? Optional.of(bar0) : Optional.empty();
    }

    @Override
    public void attach(ModelContext context) {
      this.context = context;
    }

    @Override
    public int dmaMaskBits() {
      return 32;
    }

    private void stamp() {
      lastWriteOk = context.dma().writeInt(bar0.value(TARGET), 0x5eed);
      context.interrupts().msix(1);
    }
  }

  private final Stamper stamper = new Stamper();
  private final SimMachine machine =
      SimMachine.builder()
          .driver(SimDriver.overrideOnly("vfio-pci"))
          .device(SimFunction.builder(ADDRESS.toString()).iommuGroup(3).driver("vfio-pci"), stamper)
          .build();

  @Test
  void aModelWritesMappedMemoryAndSignalsMsix() {
    try (PciDeviceHandle device = machine.open(ADDRESS);
        DmaHeap heap = device.dma().heap(4096);
        DmaBuffer buffer = heap.allocate(64)) {
      device.config().enableBusMaster();
      device.interrupts().enable(InterruptMode.MSIX, 2);

      device.bar(0).write(Stamper.TARGET, buffer.deviceAddress().value());
      device.bar(0).write(Stamper.GO, 1);

      assertThat(stamper.lastWriteOk).isTrue();
      assertThat(buffer.segment().get(ValueLayout.JAVA_INT, 0)).isEqualTo(0x5eed);
      assertThat(device.interrupts().drain(1)).isEqualTo(1);
      assertThat(device.interrupts().drain(0)).isZero();
      assertThat(device.config().read16(0x42) & 0x8000)
          .as("MSI-X enable, set by the kernel")
          .isNotZero();
    }
  }

  @Test
  void writesToReadOnlyMappingsAboveTheMaskOrAfterUnmapAreFaults() {
    SimIommu iommu = machine.iommu();
    try (PciDeviceHandle device = machine.open(ADDRESS);
        Arena arena = Arena.ofShared()) {
      device.config().enableBusMaster();
      MemorySegment page = arena.allocate(4096, 4096);
      SimIommu.Mapping readOnly = iommu.map(page, 4096, Long.MAX_VALUE, DmaAccess.READ_ONLY);

      device.bar(0).write(Stamper.TARGET, readOnly.iova().value());
      device.bar(0).write(Stamper.GO, 1);
      device.bar(0).write(Stamper.TARGET, 1L << 33);
      device.bar(0).write(Stamper.GO, 1);
      iommu.unmap(readOnly);
      device.bar(0).write(Stamper.TARGET, readOnly.iova().value());
      device.bar(0).write(Stamper.GO, 1);

      assertThat(stamper.lastWriteOk).isFalse();
      assertThat(page.get(ValueLayout.JAVA_INT, 0)).isZero();
      assertThat(iommu.faults())
          .extracting(DmaFault::reason)
          .containsExactly(
              DmaFault.Reason.PERMISSION, DmaFault.Reason.ABOVE_MASK, DmaFault.Reason.NOT_MAPPED);
      assertThat(iommu.faults().get(0).toString())
          .startsWith("DMA fault: 0000:00:07.0 write 4 bytes at 0x")
          .endsWith("PERMISSION");
    }
  }

  @Test
  void aClosedHandleRefusesEverythingAndTurnsBusMasteringOff() {
    PciDeviceHandle device = machine.open(ADDRESS);
    device.config().enableBusMaster();
    device.interrupts().enable(InterruptMode.MSIX, 1);
    device.close();

    assertThatThrownBy(device::interrupts).isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(device::dma).isInstanceOf(IllegalStateException.class);
    try (PciDeviceHandle again = machine.open(ADDRESS)) {
      assertThat(again.config().isBusMaster()).isFalse();
      assertThat(again.interrupts().mode()).isEmpty();
    }
  }

  @Test
  void theModelsBarsMustMatchWhatItDeclares() {
    DeviceModel liar =
        new DeviceModel() {
          @Override
          public SimFunction.Builder declare(SimFunction.Builder function) {
            return function.bar(0, 8192);
          }

          @Override
          public Optional<RegisterFile> bar(int index) {
            return Optional.empty();
          }
        };

    assertThatThrownBy(
            () -> SimMachine.builder().device(SimFunction.builder("0000:00:08.0"), liar).build())
        .hasMessageContaining("serves BAR0 of 0 bytes but 0000:00:08.0 has 8192 there");
  }
}
