package dev.upcie.vfio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.upcie.backend.Availability;
import dev.upcie.backend.DeviceBackends;
import dev.upcie.dma.DmaException;
import dev.upcie.errno.Errno;
import dev.upcie.host.FakeHost;
import dev.upcie.hugepages.PageSize;
import dev.upcie.hugepages.RealHugepages;
import dev.upcie.interrupt.InterruptMode;
import dev.upcie.memory.HugepageRegion;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciCapability;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.pci.PciException;
import dev.upcie.pci.PciFunctionNotFoundException;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.NotSupportedException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The vfio backend against a scripted kernel: the preflight's messages, the shared container, and
 * the failures a real kernel gives only under conditions a test cannot create. The real path runs
 * in the QEMU guest.
 */
class VfioBackendTest {
  private static final PciSelector EDU = PciSelector.any().withAddress(PciAddress.parse("00:06.0"));

  @TempDir Path dir;
  private FakeHost host;
  private final VfioBackend vfio = new VfioBackend();
  private final VfioScript script = new VfioScript();

  @BeforeEach
  void aMachineWithEduOnVfioPci() {
    host = new FakeHost(dir);
    host.tree().function("0000:00:06.0", "0x1234", "0x11e8", "0x00ff00", "vfio-pci", 6);
    host.node("vfio/vfio").node("vfio/6");
    script.install(host, eduConfig(), dir);
  }

  @Test
  void anAbsentFunctionIsNamed() {
    assertThatThrownBy(
            () -> vfio.open(PciSelector.any().withAddress(PciAddress.parse("00:09.0")), host))
        .isInstanceOf(PciFunctionNotFoundException.class)
        .hasMessageStartingWith("no PCI function matches address 0000:00:09.0");
  }

  @Test
  void aFunctionOnAnotherDriverSaysHowToBindIt() {
    host.tree().function("0000:00:05.0", "0x1b36", "0x0010", "0x010802", "nvme", 5);
    String dev = host.sysfs().resolve("bus/pci/devices/0000:00:05.0").toString();

    assertThatThrownBy(
            () -> vfio.open(PciSelector.any().withAddress(PciAddress.parse("00:05.0")), host))
        .isInstanceOf(PciFunctionNotFoundException.class)
        .hasMessageContaining("(candidates: 0000:00:05.0 on nvme)")
        .hasMessageEndingWith(
            "echo vfio-pci > "
                + dev
                + "/driver_override && echo 0000:00:05.0 > "
                + dev
                + "/driver/unbind && echo 0000:00:05.0 > "
                + host.sysfs().resolve("bus/pci/drivers_probe"));
  }

  @Test
  void aFunctionWithoutIommuGroupPointsAtTheIommu() {
    host.tree().function("0000:00:07.0", "0x1234", "0x11e8", "0x00ff00", "vfio-pci", null);

    Availability probe = vfio.probe(at("00:07.0"), host);

    assertThat(probe.isAvailable()).isFalse();
    assertThat(((Availability.Unavailable) probe).reason())
        .isEqualTo(
            "0000:00:07.0 has no IOMMU group: the kernel runs without an IOMMU; boot with"
                + " intel_iommu=on (or amd_iommu=on), or use the uio backend instead of vfio");
  }

  @Test
  void aGroupSharedWithAHostDriverNamesTheDeviceThatBlocksIt() throws Exception {
    host.tree()
        .function("0000:00:1f.0", "0x8086", "0x2918", "0x060100", "lpc_ich", 7)
        .function("0000:00:1f.2", "0x8086", "0x2922", "0x010601", "vfio-pci", 7)
        .function("0000:00:1f.3", "0x8086", "0x2930", "0x0c0500", "i801_smbus", 7);
    groupMembers(7, "0000:00:1f.0", "0000:00:1f.2", "0000:00:1f.3");

    assertThatThrownBy(
            () -> vfio.open(PciSelector.any().withAddress(PciAddress.parse("00:1f.2")), host))
        .isInstanceOf(VfioException.class)
        .hasMessage(
            "IOMMU group 7 of 0000:00:1f.2 is not viable: 0000:00:1f.0 (bound to lpc_ich),"
                + " 0000:00:1f.3 (bound to i801_smbus) must be bound to vfio-pci or unbound too");
  }

  @Test
  void aMachineWithoutVfioSaysWhichModuleToLoad() throws Exception {
    Files.delete(host.dev().resolve("vfio/vfio"));

    assertThat(vfio.probe(EDU, host))
        .extracting(a -> ((Availability.Unavailable) a).reason())
        .isEqualTo(
            "VFIO is not available: "
                + host.dev().resolve("vfio/vfio")
                + " does not exist; load it with `modprobe vfio-pci` (as root)");
  }

  @Test
  void aGroupAnotherProcessHoldsIsReportedAsBusy() {
    String group = host.dev().resolve("vfio/6").toString();
    host.kernel().failOpen(group, Errno.EBUSY);

    assertThatThrownBy(() -> vfio.open(EDU, host))
        .isInstanceOf(VfioException.class)
        .hasMessage(
            "IOMMU group 6 ("
                + group
                + ") is in use by another process: a group has one owner at a time; find it with"
                + " `fuser -v "
                + group
                + "`");
    assertThat(VfioContainer.openCount()).as("the container is closed again").isZero();
  }

  @Test
  void devicesShareOneContainerAndDevicesOfOneGroupShareTheGroup() throws Exception {
    host.tree()
        .function("0000:00:1f.2", "0x8086", "0x2922", "0x010601", "vfio-pci", 7)
        .function("0000:00:1f.3", "0x8086", "0x2930", "0x0c0500", "vfio-pci", 7);
    groupMembers(7, "0000:00:1f.2", "0000:00:1f.3");
    host.node("vfio/7");

    try (PciDeviceHandle edu = vfio.open(EDU, host);
        PciDeviceHandle sata = vfio.open(at("00:1f.2"), host);
        PciDeviceHandle smbus = vfio.open(at("00:1f.3"), host)) {
      assertThat(host.kernel().opened())
          .containsExactly(
              host.dev().resolve("vfio/vfio").toString(),
              host.dev().resolve("vfio/6").toString(),
              host.dev().resolve("vfio/7").toString());
      assertThat(host.kernel().ioctls())
          .as("the IOMMU model is set once, when the first group joins")
          .containsOnlyOnce("VFIO_SET_IOMMU");
      assertThat(VfioContainer.openCount()).isEqualTo(1);
      assertThat(sata.address()).isNotEqualTo(smbus.address());
    }
    assertThat(VfioContainer.openCount()).as("the last device closed the container").isZero();
  }

  @Test
  void configSpaceIsTheDevicesConfigRegion() {
    try (PciDeviceHandle edu = vfio.open(EDU, host)) {
      assertThat(edu.config().size()).isEqualTo(256);
      assertThat(edu.config().read16(0)).isEqualTo(0x1234);
      assertThat(edu.config().read16(2)).isEqualTo(0x11e8);
      assertThat(edu.config().capabilities())
          .containsExactly(new PciCapability(PciCapability.MSI, 0x40, false, 0));
      edu.config().enableBusMaster();
      assertThat(edu.config().isBusMaster()).isTrue();
    }
  }

  @Test
  void anInterruptModeTheDeviceLacksNamesTheModesItHas() {
    try (PciDeviceHandle edu = vfio.open(EDU, host)) {
      assertThat(edu.interrupts().modes()).containsExactly(InterruptMode.MSI, InterruptMode.INTX);

      assertThatThrownBy(() -> edu.interrupts().enable(InterruptMode.MSIX, 1))
          .isInstanceOf(NotSupportedException.class)
          .hasMessage(
              "0000:00:06.0 (1234:11e8) offers no MSI-X interrupts; it offers MSI (1 vector),"
                  + " INTx (1 vector)");
      assertThatThrownBy(() -> edu.interrupts().enable(InterruptMode.MSI, 2))
          .isInstanceOf(NotSupportedException.class)
          .hasMessageStartingWith("0000:00:06.0 (1234:11e8) offers 1 MSI vectors, not 2");
    }
  }

  @Test
  void enablingWiresEventfdsAndClosingDisablesThem() {
    PciDeviceHandle edu = vfio.open(EDU, host);
    edu.interrupts().enable(InterruptMode.MSI, 1);

    assertThat(edu.interrupts().mode()).contains(InterruptMode.MSI);
    assertThat(edu.interrupts().await(0, Duration.ofMillis(20))).as("nothing fired").isZero();
    assertThat(edu.interrupts().drain(0)).isZero();
    edu.close();

    assertThat(script.irqSets)
        .containsExactly(
            new long[] {
              VfioAbi.IRQ_SET_DATA_EVENTFD | VfioAbi.IRQ_SET_ACTION_TRIGGER,
              VfioAbi.PCI_MSI_IRQ_INDEX,
              1
            },
            new long[] {
              VfioAbi.IRQ_SET_DATA_NONE | VfioAbi.IRQ_SET_ACTION_TRIGGER,
              VfioAbi.PCI_MSI_IRQ_INDEX,
              0
            });
    assertThatThrownBy(() -> edu.interrupts()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void disablingWakesAThreadWaitingForAnInterrupt() throws Exception {
    try (PciDeviceHandle edu = vfio.open(EDU, host)) {
      edu.interrupts().enable(InterruptMode.MSI, 1);
      CompletableFuture<Long> waiter =
          CompletableFuture.supplyAsync(() -> edu.interrupts().await(0, Duration.ofSeconds(30)));
      await("a thread blocked in ppoll").atMost(Duration.ofSeconds(10)).until(() -> inPpoll());

      edu.interrupts().disable();

      assertThatThrownBy(() -> waiter.get(5, TimeUnit.SECONDS))
          .hasCauseInstanceOf(IllegalStateException.class)
          .cause()
          .hasMessageContaining("were disabled (or the device closed) while in use");
    }
  }

  @Test
  void openingAndClosingFunctionsOfOneGroupFromManyThreadsKeepsTheCountsRight() throws Exception {
    host.tree()
        .function("0000:00:1f.2", "0x8086", "0x2922", "0x010601", "vfio-pci", 7)
        .function("0000:00:1f.3", "0x8086", "0x2930", "0x0c0500", "vfio-pci", 7);
    groupMembers(7, "0000:00:1f.2", "0000:00:1f.3");
    host.node("vfio/7");
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (String address : List.of("00:1f.2", "00:1f.3", "00:1f.2", "00:1f.3")) {
      workers.add(
          CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 50; i++) {
              try (PciDeviceHandle device = vfio.open(at(address), host)) {
                device.config().read16(0);
              }
            }
          }));
    }
    CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

    assertThat(VfioContainer.openCount()).as("every container closed again").isZero();
  }

  @Test
  void aMappingOutlivingItsDeviceIsGoneWithTheIommuContextAndNotUnmappedTwice() {
    try (RealHugepages real = RealHugepages.require().ensureAvailable(PageSize.parse("2M"), 1);
        HugepageRegion region = HugepageRegion.allocate(2 << 20, PageSize.parse("2M"))) {
      PciDeviceHandle edu = vfio.open(EDU, host);
      var mapping = edu.dma().map(region);
      edu.close();
      assertThat(VfioContainer.openCount()).as("the mapping keeps the container").isOne();

      mapping.close();

      assertThat(host.kernel().ioctls())
          .as("the kernel dropped the mapping with the last group")
          .doesNotContain("VFIO_IOMMU_UNMAP_DMA");
      assertThat(VfioContainer.openCount()).isZero();
    }
  }

  @Test
  void askedForByNameTheBackendFailsWithItsOwnException() {
    assertThatThrownBy(() -> DeviceBackends.choose("vfio", at("00:09.0"), backend -> host))
        .isInstanceOf(PciFunctionNotFoundException.class);
  }

  @Test
  void aFunctionWithoutResetSaysSo() {
    script.deviceFlags = VfioAbi.DEVICE_FLAGS_PCI;
    try (PciDeviceHandle edu = vfio.open(EDU, host)) {
      assertThat(edu.canReset()).isFalse();
      assertThatThrownBy(edu::reset)
          .isInstanceOf(NotSupportedException.class)
          .hasMessageStartingWith("0000:00:06.0 1234:11e8 Unclassified device has no reset method");
    }
  }

  @Test
  void barsOutOfRangeUnimplementedOrUnmappableAreRefused() {
    script.bar0Flags = VfioAbi.REGION_INFO_FLAG_READ | VfioAbi.REGION_INFO_FLAG_WRITE;
    try (PciDeviceHandle edu = vfio.open(EDU, host)) {
      assertThatThrownBy(() -> edu.bar(6))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("BAR index must be 0 to 5: 6");
      assertThatThrownBy(() -> edu.bar(2))
          .isInstanceOf(PciException.class)
          .hasMessage("BAR2 of 0000:00:06.0 is not implemented by the device");
      assertThatThrownBy(() -> edu.bar(0))
          .isInstanceOf(PciException.class)
          .hasMessageStartingWith("BAR0 of 0000:00:06.0 (1 MiB) cannot be memory-mapped");
    }
  }

  @Test
  void iommufdIsReportedAsNotAvailableOnThisKernel() {
    System.setProperty(VfioBackend.IOMMU_PROPERTY, "iommufd");
    try {
      assertThatThrownBy(() -> vfio.open(EDU, host))
          .isInstanceOf(NotSupportedException.class)
          .hasMessageContaining("iommufd and vfio cdev are not available on this kernel's build");
    } finally {
      System.clearProperty(VfioBackend.IOMMU_PROPERTY);
    }
  }

  @Test
  void dmaIsRefusedBeyondTheLockedMemoryLimitOfAProcessWithoutIpcLock() {
    try (RealHugepages real = RealHugepages.require().ensureAvailable(PageSize.parse("2M"), 1);
        PciDeviceHandle edu = vfio.open(EDU, host);
        HugepageRegion region = HugepageRegion.allocate(2 << 20, PageSize.parse("2M"))) {
      host.capabilities(0).memlock(1 << 20, 512 << 10);

      assertThatThrownBy(() -> edu.dma().map(region))
          .isInstanceOf(DmaException.class)
          .hasMessageContaining(
              "2 MiB more would exceed this process's locked-memory limit (RLIMIT_MEMLOCK 1 MiB,"
                  + " 512 KiB locked already); raise it (ulimit -l");
      host.capabilities(1L << 14);
      try (var mapping = edu.dma().map(region)) {
        assertThat(script.mapped).as("CAP_IPC_LOCK lifts the limit").hasSize(1);
      }
      assertThat(script.mapped).as("nothing reached the IOMMU").isEmpty();
    }
  }

  @Test
  void theKernelsRefusalToPinIsExplained() {
    host.kernel().fail("VFIO_IOMMU_MAP_DMA", Errno.ENOMEM);
    try (RealHugepages real = RealHugepages.require().ensureAvailable(PageSize.parse("2M"), 1);
        PciDeviceHandle edu = vfio.open(EDU, host);
        HugepageRegion region = HugepageRegion.allocate(2 << 20, PageSize.parse("2M"))) {
      assertThatThrownBy(() -> edu.dma().map(region))
          .isInstanceOf(DmaException.class)
          .hasMessageContaining("ENOMEM")
          .hasMessageEndingWith(
              "the kernel pins mapped memory and counts it against RLIMIT_MEMLOCK: raise the"
                  + " limit (ulimit -l) or run as root");
    }
  }

  @Test
  void iovasStayWithinTheIommuAperturesAndBelowTheDeviceMask() {
    script.apertures.add(new long[] {0x10000, 0xfeefffffL});
    script.apertures.add(new long[] {0xfef00000L, (1L << 48) - 1});
    try (RealHugepages real = RealHugepages.require().ensureAvailable(PageSize.parse("2M"), 2);
        PciDeviceHandle edu = vfio.open(EDU, host);
        HugepageRegion first = HugepageRegion.allocate(2 << 20, PageSize.parse("2M"));
        HugepageRegion second = HugepageRegion.allocate(2 << 20, PageSize.parse("2M"))) {
      assertThat(edu.dma().ranges())
          .extracting(r -> r.first() + "-" + r.last())
          .containsExactly(0x10000 + "-" + 0xfeefffffL, 0xfef00000L + "-" + ((1L << 48) - 1));
      assertThat(edu.dma().withMask(28).ranges())
          .singleElement()
          .satisfies(r -> {
            assertThat(r.first()).isEqualTo(0x10000);
            assertThat(r.last()).isEqualTo((1L << 28) - 1);
          });

      try (var mapping = edu.dma().withMask(28).map(first)) {
        assertThat(mapping.deviceAddress().value())
            .as("2 MiB-aligned, above the 64 KiB floor, below 256 MiB")
            .isEqualTo(2 << 20);
        assertThat(script.mapped).hasSize(1);
      }
      assertThat(script.mapped).as("closing the mapping unmapped it").isEmpty();
      assertThatThrownBy(() -> edu.dma().withMask(21).map(second))
          .isInstanceOf(DmaException.class)
          .hasMessageContaining(
              "no IOVA range of 2 MiB aligned to 2 MiB is free at or below 0x1fffff");
    }
  }

  /** True if a thread of this process is blocked in ppoll (x86-64: system call 271). */
  private static boolean inPpoll() throws Exception {
    try (var tasks = Files.list(Path.of("/proc/self/task"))) {
      for (Path task : tasks.toList()) {
        try {
          if (Files.readString(task.resolve("syscall")).startsWith("271 ")) {
            return true;
          }
        } catch (java.io.IOException e) {
          // The thread ended while we looked.
        }
      }
    }
    return false;
  }

  private void groupMembers(int group, String... members) throws Exception {
    for (String member : members) {
      Files.createSymbolicLink(
          host.sysfs().resolve("kernel/iommu_groups/" + group + "/devices/" + member),
          Path.of("../../../../devices/pci0000:00/" + member));
    }
  }

  private static PciSelector at(String address) {
    return PciSelector.any().withAddress(PciAddress.parse(address));
  }

  /** QEMU's edu: ids, one MSI capability at 0x40. */
  private static byte[] eduConfig() {
    ByteBuffer config = ByteBuffer.allocate(256).order(ByteOrder.LITTLE_ENDIAN);
    config.putShort(0x00, (short) 0x1234).putShort(0x02, (short) 0x11e8);
    config.putShort(0x06, (short) 0x0010).put(0x34, (byte) 0x40);
    config.put(0x40, (byte) PciCapability.MSI).put(0x42, (byte) 0x80);
    return config.array();
  }
}
