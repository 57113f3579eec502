package dev.upcie.assertj;

import static dev.upcie.assertj.UpcieAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.pci.PciAddress;
import dev.upcie.register.RegisterValue;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.edu.EduRegisters;
import dev.upcie.sim.nvme.NvmeModel;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Register assertions on the simulated NVMe controller's and edu's BAR0. */
class RegisterValueAssertTest {
  private SimMachine machine;
  private SimPciDeviceHandle nvme;
  private Mmio bar0;

  @BeforeEach
  void openTheController() {
    machine = SimMachine.qemuQ35Vfio();
    nvme = machine.open(PciAddress.parse("0000:00:05.0"));
    bar0 = nvme.bar(0);
  }

  @AfterEach
  void close() {
    nvme.close();
    machine.close();
  }

  @Test
  void passesOnTheValuesTheControllerHas() {
    assertThat(bar0.readValue(NvmeRegisters.CAP))
        .hasField(NvmeRegisters.CAP_MQES, 2047)
        .hasField(NvmeRegisters.CAP_TO, 15)
        .hasValue(NvmeModel.QEMU_CAP);
    assertThat(bar0.readValue(NvmeRegisters.CSTS)).field(NvmeRegisters.CSTS_RDY).isZero();
  }

  @Test
  void aFieldFailureIsDescribedByTheFieldAndTheDecodedRegister() {
    ((NvmeModel) nvme.model()).faults().raiseFatal();
    RegisterValue csts = bar0.readValue(NvmeRegisters.CSTS);

    assertThatThrownBy(() -> assertThat(csts).field(NvmeRegisters.CSTS_RDY).isEqualTo(1))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("[CSTS.RDY of 0x00000002 (rdy=0 cfs=1 shst=0 nssro=0 pp=0)]")
        .hasMessageContaining("expected: 1");
    assertThatThrownBy(
            () -> assertThat(csts).as("after the fault").field(NvmeRegisters.CSTS_CFS).isZero())
        .hasMessageContaining("[after the fault: CSTS.CFS of 0x00000002 (rdy=0 cfs=1");
  }

  @Test
  void hasFieldNamesTheFieldBothValuesAndTheRegister() {
    bar0.write(NvmeRegisters.CC, NvmeRegisters.CC_IOCQES.set(0, 4));

    assertThatThrownBy(
            () -> assertThat(bar0.readValue(NvmeRegisters.CC)).hasField(NvmeRegisters.CC_IOSQES, 6))
        .hasMessageContaining(
            "Expecting CC.IOSQES to be 6 but was 0 in%n  CC = 0x00400000 (en=0 css=0 mps=0 ams=0"
                    .formatted()
                + " shn=0 iosqes=0 iocqes=4)");
  }

  @Test
  void hasValueListsTheFieldsThatDiffer() {
    bar0.write(NvmeRegisters.AQA, 0x001f0003);

    assertThatThrownBy(() -> assertThat(bar0.readValue(NvmeRegisters.AQA)).hasValue(0x001f001f))
        .hasMessageContaining(
            "Expecting AQA to be%n  0x001f001f (asqs=31 acqs=31)%nbut was%n  0x001f0003 (asqs=3"
                    .formatted()
                + " acqs=31)")
        .hasMessageContaining("fields that differ: asqs 3 (expected 31)");
  }

  @Test
  void aFieldOfAnotherRegisterIsAMistakeInTheTestNotAFailure() {
    assertThatThrownBy(() ->
            assertThat(bar0.readValue(NvmeRegisters.CSTS)).field(NvmeRegisters.CC_EN).isEqualTo(1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("CC.EN[0] is a field of CC@0x14/32, not of CSTS@0x1c/32: read CC to get it");
  }

  @Test
  void anotherDevicesRegisterIsDecodedByTheFieldAsked() {
    try (SimPciDeviceHandle edu = machine.open(PciAddress.parse("0000:00:06.0"))) {
      Mmio eduBar0 = edu.bar(0);
      assertThat(eduBar0.readValue(EduRegisters.ID)).hasValue(0x010000ed);

      assertThatThrownBy(() ->
              assertThat(eduBar0.readValue(EduRegisters.STATUS))
                  .hasField(EduRegisters.STATUS_INTERRUPT_ON_FACTORIAL, 1))
          .hasMessageContaining(
              "Expecting STATUS.IRQFACT to be 1 but was 0 in%n  STATUS = 0x00000000 (irqfact=0)"
                  .formatted());
    }
  }
}
