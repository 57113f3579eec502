package dev.upcie.uio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.backend.Availability;
import dev.upcie.dma.DmaException;
import dev.upcie.errno.Errno;
import dev.upcie.host.FakeHost;
import dev.upcie.hugepages.PageSize;
import dev.upcie.hugepages.RealHugepages;
import dev.upcie.interrupt.InterruptMode;
import dev.upcie.memory.HugepageRegion;
import dev.upcie.memory.PhysicalAddress;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunctionNotFoundException;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.NotSupportedException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The uio backend against a fake machine: the preflight's messages, config space and BARs through
 * sysfs files, INTx masking through the command register, and the refusals. The real path runs in
 * the QEMU guest without an IOMMU.
 */
class UioBackendTest {
  private static final String DIR = "devices/pci0000:00/0000:00:06.0";
  private static final PciSelector EDU = PciSelector.any().withAddress(PciAddress.parse("00:06.0"));

  @TempDir Path dir;
  private FakeHost host;
  private final UioBackend uio = new UioBackend();

  @BeforeEach
  void aMachineWithEduOnUioPciGeneric() {
    host = new FakeHost(dir);
    host.tree()
        .function("0000:00:06.0", "0x1234", "0x11e8", "0x00ff00", "uio_pci_generic", null)
        .dir(DIR + "/uio/uio0")
        .bytes(DIR + "/config", eduConfig())
        .file(
            DIR + "/resource",
            "0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n"
                + "0x000000000000c000 0x000000000000c01f 0x0000000000040101\n"
                + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n".repeat(11))
        .file(DIR + "/resource0", "");
    host.node("uio0");
  }

  @Test
  void aFunctionOnAnotherDriverSaysHowToBindIt() {
    host.tree().function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "nvme", null);

    assertThatThrownBy(
            () -> uio.open(PciSelector.any().withAddress(PciAddress.parse("00:05.0")), host))
        .isInstanceOf(PciFunctionNotFoundException.class)
        .hasMessageContaining(
            "is bound to uio_pci_generic (candidates: 0000:00:05.0 on nvme); bind the one meant"
                + " for this use to uio_pci_generic first, as root: echo uio_pci_generic > ");
  }

  @Test
  void aFunctionTheDriverRejectedHasNoUioDevice() throws Exception {
    Files.delete(host.sysfs().resolve(DIR + "/uio/uio0"));

    Availability probe = uio.probe(EDU, host);

    assertThat(((Availability.Unavailable) probe).reason())
        .startsWith("0000:00:06.0 is bound to uio_pci_generic but has no UIO device")
        .endsWith("it refuses functions whose INTx cannot be masked)");
  }

  @Test
  void aMissingDeviceNodePointsAtDevtmpfs() throws Exception {
    Files.delete(host.dev().resolve("uio0"));

    assertThat(((Availability.Unavailable) uio.probe(EDU, host)).reason())
        .isEqualTo(
            host.dev().resolve("uio0")
                + " does not exist although 0000:00:06.0 is bound to uio_pci_generic: is"
                + " devtmpfs mounted on "
                + host.dev()
                + "?");
  }

  @Test
  void anOrdinaryUserIsToldTheBackendNeedsRoot() {
    host.kernel()
        .failOpen(
            host.sysfs().resolve("bus/pci/devices/0000:00:06.0/config").toString(), Errno.EACCES);

    assertThatThrownBy(() -> uio.open(EDU, host))
        .isInstanceOf(UioException.class)
        .hasMessageEndingWith("EACCES (Permission denied); the uio backend needs root");
  }

  @Test
  void configSpaceAndBarsComeFromSysfs() {
    try (PciDeviceHandle edu = uio.open(EDU, host)) {
      assertThat(edu.backend()).isEqualTo("uio");
      assertThat(edu.config().size()).isEqualTo(256);
      assertThat(edu.config().read16(2)).isEqualTo(0x11e8);
      assertThat(edu.bar(0).size()).as("from the resource table").isEqualTo(1 << 20);
      edu.bar(0).putIntVolatile(0x04, 7);
      assertThatThrownBy(() -> edu.bar(1))
          .isInstanceOf(PciException.class)
          .hasMessage("BAR1 of 0000:00:06.0 (32 B) cannot be memory-mapped: it is an I/O-port BAR");
      assertThatThrownBy(() -> edu.bar(2))
          .isInstanceOf(PciException.class)
          .hasMessage("BAR2 of 0000:00:06.0 is not implemented by the device");
    }
  }

  @Test
  void aBarSmallerThanAPageIsFoundWithinItsPage() throws Exception {
    host.tree()
        .file(
            DIR + "/resource",
            "0x00000000fea00000 0x00000000feafffff 0x0000000000040200\n"
                + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n"
                + "0x00000000feb01c10 0x00000000feb01c1f 0x0000000000040200\n"
                + "0x0000000000000000 0x0000000000000000 0x0000000000000000\n".repeat(10))
        .file(DIR + "/resource2", "");
    try (PciDeviceHandle edu = uio.open(EDU, host)) {
      edu.bar(2).putIntVolatile(4, 0x5a5a5a5a);

      assertThat(edu.bar(2).size()).isEqualTo(16);
      MemorySegment page = host.kernel().mappings().getLast();
      assertThat(page.get(ValueLayout.JAVA_INT, 0xc10 + 4)).isEqualTo(0x5a5a5a5a);
    }
  }

  @Test
  void closingStopsTheDevicesDma() throws Exception {
    PciDeviceHandle edu = uio.open(EDU, host);
    edu.config().enableBusMaster();
    edu.close();

    assertThat(Files.readAllBytes(host.sysfs().resolve(DIR + "/config"))[4] & 0x04)
        .as("bus mastering, off")
        .isZero();
  }

  @Test
  void intxIsUnmaskedAndMaskedThroughTheCommandRegister() throws Exception {
    Path config = host.sysfs().resolve(DIR + "/config");
    try (PciDeviceHandle edu = uio.open(EDU, host)) {
      assertThat(edu.interrupts().modes()).containsExactly(InterruptMode.INTX);

      edu.interrupts().enable(InterruptMode.INTX, 1);
      assertThat(Files.readAllBytes(config)[5] & 0x04).as("INTx disable, cleared").isZero();
      edu.interrupts().disable();
      assertThat(Files.readAllBytes(config)[5] & 0x04).as("INTx disable, set").isEqualTo(0x04);

      assertThatThrownBy(() -> edu.interrupts().enable(InterruptMode.MSI, 1))
          .isInstanceOf(NotSupportedException.class)
          .hasMessage(
              "0000:00:06.0 (1234:11e8) offers no MSI interrupts; it offers INTx (1 vector)"
                  + " (uio_pci_generic delivers INTx only; the vfio backend has MSI and MSI-X)");
    }
  }

  @Test
  void resetGoesThroughTheSysfsAttributeWhereTheFunctionHasOne() throws Exception {
    try (PciDeviceHandle edu = uio.open(EDU, host)) {
      assertThat(edu.canReset()).isFalse();
      assertThatThrownBy(edu::reset)
          .isInstanceOf(NotSupportedException.class)
          .hasMessageStartingWith("0000:00:06.0 1234:11e8 Unclassified device has no reset method");

      host.tree().file(DIR + "/reset", "");
      edu.reset();
      assertThat(Files.readString(host.sysfs().resolve(DIR + "/reset"))).isEqualTo("1");
    }
  }

  @Test
  void memoryAboveTheDmaMaskIsRefusedAndBelowItGivenByPhysicalAddress() {
    PageSize twoMb = PageSize.parse("2M");
    try (RealHugepages real = RealHugepages.require().ensureAvailable(twoMb, 1);
        PciDeviceHandle edu = uio.open(EDU, host);
        HugepageRegion region = HugepageRegion.allocate(twoMb.bytes(), twoMb)) {
      // No hugepage lies in the first MiB of physical memory.
      assertThatThrownBy(() -> edu.dma().withMask(20).map(region))
          .isInstanceOf(DmaException.class)
          .hasMessageContaining("lies above the 20-bit DMA mask of 0000:00:06.0 1234:11e8")
          .hasMessageContaining("reaches physical addresses below 0x100000 (1 MiB) only");

      try (var mapping = edu.dma().map(region)) {
        assertThat(mapping.deviceAddress())
            .isEqualTo(new PhysicalAddress(region.physicalTranslation().page(0).value()));
      }
    }
  }

  /** QEMU's edu: ids, INTA#, one MSI capability. */
  private static byte[] eduConfig() {
    ByteBuffer config = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
    config.putShort(0x00, (short) 0x1234).putShort(0x02, (short) 0x11e8);
    config.putShort(0x04, (short) 0x0402).putShort(0x06, (short) 0x0010);
    config.put(0x34, (byte) 0x40).put(0x3d, (byte) 1);
    config.put(0x40, (byte) 0x05).put(0x42, (byte) 0x80);
    return config.array();
  }
}
