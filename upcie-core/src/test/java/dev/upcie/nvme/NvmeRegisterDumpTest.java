package dev.upcie.nvme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.mmio.Mmio;
import dev.upcie.register.RegisterDump;
import dev.upcie.register.RegisterValue;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

class NvmeRegisterDumpTest {

  @Test
  void dumpsWhatQemusControllerShowsAsShowRegsPrintsIt() {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment bar = arena.allocate(0x1000, 8);
      Mmio bar0 = Mmio.of("BAR0 of test", bar);
      bar0.putLongVolatile(NvmeRegisters.CAP.offset(), 0x004018200f0107ffL);
      bar0.putIntVolatile(NvmeRegisters.VS.offset(), 0x00010400);
      bar0.putIntVolatile(NvmeRegisters.CC.offset(), 0x00460001);
      bar0.putIntVolatile(NvmeRegisters.CSTS.offset(), 1);
      bar0.putIntVolatile(NvmeRegisters.AQA.offset(), 0x001f001f);
      bar0.putLongVolatile(NvmeRegisters.ASQ.offset(), 0x12340000L);

      RegisterDump dump = NvmeRegisters.dump(bar0);

      assertThat(dump.lines())
          .containsExactly(
              "cap     0x004018200f0107ff  mqes=2047 cqr=1 ams=0 to=15 dstrd=0 nssrs=0 css=0xc1"
                  + " mpsmin=0 mpsmax=4 pmrs=0 cmbs=0  (ready timeout 7500 ms)",
              "vs      0x00010400          ter=0 mnr=4 mjr=1  (1.4.0)",
              "intms   0x00000000",
              "intmc   0x00000000",
              "cc      0x00460001          en=1 css=0 mps=0 ams=0 shn=0 iosqes=6 iocqes=4",
              "csts    0x00000001          rdy=1 cfs=0 shst=0 nssro=0 pp=0",
              "aqa     0x001f001f          asqs=31 acqs=31",
              "asq     0x0000000012340000",
              "acq     0x0000000000000000");
      assertThat(dump.value(NvmeRegisters.CSTS).isSet(NvmeRegisters.CSTS_RDY)).isTrue();
    }
  }

  @Test
  void aCstsOfAllOnesSaysTheDeviceDidNotAnswer() {
    RegisterDump dump =
        NvmeRegisters.dump(List.of(new RegisterValue(NvmeRegisters.CSTS, 0xffffffffL)));

    assertThat(dump.lines())
        .containsExactly(
            "csts    0xffffffff          rdy=1 cfs=1 shst=3 nssro=1 pp=1  (all ones: the device did"
                + " not answer)");
    assertThat(dump.decode(new RegisterValue(NvmeRegisters.CSTS, 2)))
        .isEqualTo("rdy=0 cfs=1 shst=0 nssro=0 pp=0");
  }
}
