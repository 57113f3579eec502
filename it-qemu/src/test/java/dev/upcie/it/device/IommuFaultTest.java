package dev.upcie.it.device;

import static dev.upcie.sim.edu.EduRegisters.BUFFER;
import static dev.upcie.sim.edu.EduRegisters.DMA_COMMAND;
import static dev.upcie.sim.edu.EduRegisters.DMA_COUNT;
import static dev.upcie.sim.edu.EduRegisters.DMA_DESTINATION;
import static dev.upcie.sim.edu.EduRegisters.DMA_RUN;
import static dev.upcie.sim.edu.EduRegisters.DMA_SOURCE;
import static org.awaitility.Awaitility.await;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import dev.upcie.host.KernelLog;
import dev.upcie.junit.PciDevice;
import dev.upcie.mmio.Mmio;
import dev.upcie.pci.PciDeviceHandle;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.platform.testkit.engine.EngineTestKit;

/**
 * On VFIO, a DMA the IOMMU refuses reaches only the kernel log; the extension reads it there and
 * fails the test whose device caused it. In the VFIO guest: {@code edu} is told to copy from an
 * IOVA nothing is mapped at, and QEMU's intel-iommu reports the fault to the guest's kernel.
 */
@Tag(GuestRun.GUEST_ONLY)
public class IommuFaultTest {

  @Test
  void aDmaFaultInTheKernelLogFailsTheTestThatCausedIt() {
    EngineTestKit.engine("junit-jupiter")
        .selectors(selectClass(Provoker.class))
        .configurationParameter("upcie.backend", "vfio")
        .execute()
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            event(
                test("copiesFromAnUnmappedAddress"),
                finishedWithFailure(
                    message(m ->
                        m.startsWith("the IOMMU refused ")
                            && m.contains("as the kernel log says")
                            && m.contains("DMAR")
                            && m.contains("[00:06.0]")))));
  }

  /** Run by the test above, not on its own: a test that makes edu fault. */
  static class Provoker {
    // Below edu's 28-bit DMA mask, and mapped by nothing here.
    private static final long UNMAPPED_IOVA = 0x0ff0_0000L;

    @Test
    void copiesFromAnUnmappedAddress(@PciDevice(id = "1234:11e8") PciDeviceHandle edu) {
      try (KernelLog log = KernelLog.fromNow()) {
        edu.config().enableBusMaster();
        Mmio bar0 = edu.bar(0);
        bar0.write(DMA_SOURCE, UNMAPPED_IOVA);
        bar0.write(DMA_DESTINATION, BUFFER);
        bar0.write(DMA_COUNT, 8);
        bar0.write(DMA_COMMAND, DMA_RUN.mask());
        // The kernel logs the fault from its fault interrupt, a little after the transfer.
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() ->
                log.newMessages().stream()
                    .anyMatch(m -> m.contains("DMAR") && m.contains("[00:06.0]")));
      }
    }
  }
}
