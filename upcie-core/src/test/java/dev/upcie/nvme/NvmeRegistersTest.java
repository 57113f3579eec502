package dev.upcie.nvme;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class NvmeRegistersTest {
  // What QEMU 7.2's emulated controller reports (it-qemu's conformance test reads it there).
  private static final long QEMU_CAP = 0x004018200f0107ffL;
  private static final int QEMU_VS = 0x00010400;

  @Test
  void decodesQemuCapabilities() {
    NvmeCap cap = new NvmeCap(QEMU_CAP);

    assertThat(cap.mqes()).isEqualTo(2047);
    assertThat(cap.cqr()).isTrue();
    assertThat(cap.ams()).isZero();
    assertThat(cap.to()).isEqualTo(15);
    assertThat(cap.readyTimeout()).isEqualTo(Duration.ofMillis(7500));
    assertThat(cap.dstrd()).isZero();
    assertThat(cap.doorbellStride()).isEqualTo(4);
    assertThat(cap.css() & 1).as("NVM command set").isEqualTo(1);
    assertThat(cap.minPageSize()).isEqualTo(4096);
    assertThat(cap.maxPageSize()).isEqualTo(65536);
    assertThat(cap.cmbs()).isFalse();
  }

  @Test
  void everyCapFieldComesFromItsOwnBits() {
    // Each field a distinct non-zero value at the bit positions of NVMe 2.0, figure 36.
    NvmeCap cap = new NvmeCap(0x03621033a5051234L);

    assertThat(cap.mqes()).isEqualTo(0x1234);
    assertThat(cap.cqr()).isTrue();
    assertThat(cap.ams()).isEqualTo(2);
    assertThat(cap.to()).isEqualTo(0xa5);
    assertThat(cap.dstrd()).isEqualTo(3);
    assertThat(cap.doorbellStride()).isEqualTo(32);
    assertThat(cap.nssrs()).isTrue();
    assertThat(cap.css()).isEqualTo(0x81);
    assertThat(cap.mpsmin()).isEqualTo(2);
    assertThat(cap.mpsmax()).isEqualTo(6);
    assertThat(cap.pmrs()).isTrue();
    assertThat(cap.cmbs()).isTrue();
  }

  @Test
  void everyCcAndCstsFieldComesFromItsOwnBits() {
    NvmeCc cc = new NvmeCc(0x0046ad61);
    assertThat(cc.en()).isTrue();
    assertThat(cc.css()).isEqualTo(6);
    assertThat(cc.mps()).isEqualTo(0b1010);
    assertThat(cc.ams()).isEqualTo(0b101);
    assertThat(cc.shn()).isEqualTo(0b10);
    assertThat(cc.iosqes()).isEqualTo(6);
    assertThat(cc.iocqes()).isEqualTo(4);

    NvmeCsts csts = new NvmeCsts(0x39);
    assertThat(csts.rdy()).isTrue();
    assertThat(csts.cfs()).isFalse();
    assertThat(csts.shst()).isEqualTo(0b10);
    assertThat(csts.nssro()).isTrue();
    assertThat(csts.pp()).isTrue();

    NvmeVersion vs = new NvmeVersion(0x00020103);
    assertThat(vs.major()).isEqualTo(2);
    assertThat(vs.minor()).isEqualTo(1);
    assertThat(vs.tertiary()).isEqualTo(3);
  }

  @Test
  void decodesVersion() {
    assertThat(new NvmeVersion(QEMU_VS)).hasToString("1.4.0");
    assertThat(new NvmeVersion(0x00020000).major()).isEqualTo(2);
  }

  @Test
  void decodesConfigurationAndStatus() {
    NvmeCc cc = new NvmeCc(0x00460001);
    assertThat(cc.en()).isTrue();
    assertThat(cc.iosqes()).isEqualTo(6);
    assertThat(cc.iocqes()).isEqualTo(4);
    assertThat(cc.mps()).isZero();

    assertThat(new NvmeCsts(0x1).rdy()).isTrue();
    assertThat(new NvmeCsts(0x2).cfs()).isTrue();
    assertThat(new NvmeCsts(0x8).shst()).isEqualTo(2);
    assertThat(new NvmeCsts(-1).isAllOnes()).isTrue();
  }
}
