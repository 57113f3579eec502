package dev.upcie.assertj;

import static dev.upcie.assertj.UpcieAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.memory.DmaBuffer;
import dev.upcie.memory.DmaHeap;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.nvme.driver.NvmeNamespace;
import dev.upcie.nvme.driver.NvmeQueuePair;
import dev.upcie.nvme.driver.QueuePairOptions;
import dev.upcie.pci.PciAddress;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** DMA memory assertions, on buffers the simulated NVMe controller wrote and read. */
class DmaBufferAssertTest {
  private SimMachine machine;
  private SimPciDeviceHandle device;
  private DmaHeap heap;

  @BeforeEach
  void open() {
    machine = SimMachine.qemuQ35Vfio();
    device = machine.open(PciAddress.parse("0000:00:05.0"));
    heap = device.dma().heap(2 << 20);
  }

  @AfterEach
  void close() {
    heap.close();
    device.close();
    machine.close();
  }

  @Test
  void whatTheControllerReadsBackHasTheSameContentAsWhatItWrote() {
    DmaBuffer written = heap.allocate(8192, 4096);
    DmaBuffer read = heap.allocate(8192, 4096);
    byte[] data = new byte[8192];
    new SplittableRandom(1).nextBytes(data);
    written.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(data));
    read.segment().fill((byte) 0);
    try (NvmeController controller = NvmeController.open(device);
        NvmeQueuePair io = controller.createQueuePair(QueuePairOptions.depth(4))) {
      NvmeNamespace ns = controller.namespace(1);
      assertThat(read).isZeroed();

      io.write(ns, 100, 16, written, 0);
      io.read(ns, 100, 16, read, 0);
    }

    assertThat(read).hasSize(8192).hasSameContentAs(written).hasSameContentAs(data);
    read.segment().set(ValueLayout.JAVA_BYTE, 0x1234, (byte) (data[0x1234] ^ 0xff));
    assertThatThrownBy(() -> assertThat(read).hasSameContentAs(written))
        .hasMessageContaining("to have the same content as%n  %s".formatted(written))
        .hasMessageContaining(
            "but byte 0x1234 is 0x%02x, not 0x%02x (1 of 8192 bytes differ):"
                .formatted(~data[0x1234] & 0xff, data[0x1234] & 0xff))
        .hasMessageContaining("%nactual:%n  0x1210 ".formatted())
        .hasMessageContaining("%n  0x1250 ".formatted())
        .hasMessageContaining("%nexpected:%n  0x1210 ".formatted())
        .hasMessageNotContaining("0x1200 ")
        .hasMessageNotContaining("0x1260 ");
  }

  @Test
  void containsAtShowsTheBytesAroundTheFirstDifferenceMarked() {
    DmaBuffer buffer = heap.allocate(4096, 4096);
    buffer.segment().fill((byte) 0);
    buffer.segment().set(ValueLayout.JAVA_BYTE, 0x20, (byte) 0xde);
    buffer.segment().set(ValueLayout.JAVA_BYTE, 0x21, (byte) 0xad);
    buffer.segment().set(ValueLayout.JAVA_BYTE, 0x23, (byte) 0xef);

    assertThat(buffer).containsAt(0x20, (byte) 0xde, (byte) 0xad).containsAt(0x23, (byte) 0xef);
    String zeros = "00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00";
    assertThatThrownBy(() ->
            assertThat(buffer).containsAt(0x20, (byte) 0xde, (byte) 0xad, (byte) 0xbe, (byte) 0xef))
        .hasMessageContaining(
            String.join(
                System.lineSeparator(),
                "to contain at offset 0x20 the 4 bytes",
                "  de ad be ef,",
                "but byte 0x22 is 0x00, not 0xbe (1 of 4 bytes differ):",
                "actual:",
                "  0x0000  " + zeros,
                "  0x0010  " + zeros,
                "  0x0020  de ad 00 ef 00 00 00 00  00 00 00 00 00 00 00 00",
                "                ^^",
                "  0x0030  " + zeros,
                "  0x0040  " + zeros,
                "expected:",
                "  0x0020  de ad be ef",
                "                ^^"));
  }

  @Test
  void fillChecksCountTheBytesThatDiffer() {
    DmaBuffer buffer = heap.allocate(4096, 4096);
    buffer.segment().fill((byte) 0xa5);
    buffer.segment().asSlice(0x100, 3).fill((byte) 0);

    assertThat(buffer).isFilledWith((byte) 0xa5, 0, 0x100).isFilledWith((byte) 0, 0x100, 3);
    assertThatThrownBy(() -> assertThat(buffer).isFilledWith((byte) 0xa5))
        .hasMessageContaining(
            "to have bytes 0x0 to 0xfff filled with 0xa5,%nbut byte 0x100 is 0x00, not 0xa5 (3 of"
                    .formatted()
                + " 4096 bytes differ)");
    assertThatThrownBy(() -> assertThat(buffer).isZeroed())
        .hasMessageContaining(
            "to be zeroed,%nbut byte 0x0 is 0xa5, not 0x00 (4093 of 4096".formatted());
    assertThatThrownBy(() -> assertThat(buffer).isFilledWith((byte) 0, 4000, 200))
        .isInstanceOf(IndexOutOfBoundsException.class)
        .hasMessageContaining("bytes 0xfa0 to 0x1067 are outside DmaBuffer[4096 bytes");
  }

  @Test
  void sizesThatDifferAndFreedBuffersAreSaidSo() {
    DmaBuffer small = heap.allocate(512, 512);
    DmaBuffer large = heap.allocate(4096, 4096);

    assertThatThrownBy(() -> assertThat(small).hasSameContentAs(large))
        .hasMessageContaining("but it is 512 bytes long, not 4096");
    small.close();
    assertThatThrownBy(() -> assertThat(small).isZeroed())
        .hasMessageContaining("freed")
        .hasMessageContaining("to be zeroed,%nbut it is freed: its memory is gone".formatted());
  }
}
