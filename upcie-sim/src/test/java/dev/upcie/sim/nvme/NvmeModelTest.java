package dev.upcie.sim.nvme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeCap;
import dev.upcie.nvme.NvmeCc;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.NvmeVersion;
import org.junit.jupiter.api.Test;

class NvmeModelTest {
  private final Mmio bar0 = new NvmeModel().bar(0).orElseThrow();

  @Test
  void reportsQemuCapabilitiesAndVersion() {
    assertThat(bar0.size()).isEqualTo(16 * 1024);
    assertThat(bar0.getLongVolatile(NvmeRegisters.CAP.offset())).isEqualTo(0x004018200f0107ffL);
    assertThat(new NvmeCap(bar0.getLongVolatile(NvmeRegisters.CAP.offset())).mqes())
        .isEqualTo(2047);
    assertThat(new NvmeVersion(bar0.getIntVolatile(NvmeRegisters.VS.offset())))
        .hasToString("1.4.0");
    assertThat(bar0.getIntVolatile(NvmeRegisters.CSTS.offset())).isZero();
  }

  @Test
  void capabilitiesAndStatusAreReadOnly() {
    bar0.putLongVolatile(NvmeRegisters.CAP.offset(), 0);
    bar0.putIntVolatile(NvmeRegisters.CSTS.offset(), 1);

    assertThat(bar0.getLongVolatile(NvmeRegisters.CAP.offset())).isEqualTo(0x004018200f0107ffL);
    assertThat(bar0.getIntVolatile(NvmeRegisters.CSTS.offset())).isZero();
  }

  @Test
  void configurationAndAdminQueueRegistersStoreWhatIsWrittenAsQemuDoes() {
    bar0.putIntVolatile(NvmeRegisters.CC.offset(), 0xffff_3ffe);
    bar0.putIntVolatile(NvmeRegisters.AQA.offset(), 0xffff_ffff);
    bar0.putLongVolatile(NvmeRegisters.ASQ.offset(), 0x1234_5678_9abc_defL);
    bar0.putIntVolatile(NvmeRegisters.ACQ.offset() + 4, 0x2);

    NvmeCc cc = new NvmeCc(bar0.getIntVolatile(NvmeRegisters.CC.offset()));
    assertThat(cc.value()).isEqualTo(0xffff_3ffe);
    assertThat(cc.iosqes()).isEqualTo(0xf);
    assertThat(bar0.getIntVolatile(NvmeRegisters.AQA.offset())).isEqualTo(0xffff_ffff);
    assertThat(bar0.getLongVolatile(NvmeRegisters.ASQ.offset())).isEqualTo(0x1234_5678_9abc_defL);
    assertThat(bar0.getLongVolatile(NvmeRegisters.ACQ.offset()))
        .as("upper half alone")
        .isEqualTo(2L << 32);
  }
}
