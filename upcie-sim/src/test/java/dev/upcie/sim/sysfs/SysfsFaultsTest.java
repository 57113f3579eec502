package dev.upcie.sim.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.upcie.errno.Errno;
import dev.upcie.hugepages.PageSize;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.sysfs.SysfsException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Injected kernel faults: each hits the next matching store only, and only its function. */
class SysfsFaultsTest {
  private static final PciAddress A = PciAddress.parse("0000:00:05.0");
  private static final PciAddress B = PciAddress.parse("0000:00:06.0");

  private final ExecutorService writer =
      Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "unbinding");
        t.setDaemon(true);
        return t;
      });
  private SimSysfs sysfs;
  private PciBus bus;

  @BeforeEach
  void machine() {
    sysfs =
        SimSysfs.builder()
            .driver(SimDriver.overrideOnly("vfio-pci"))
            .function(SimFunction.builder("0000:00:05.0").bar(0, 4096).driver("vfio-pci").build())
            .function(SimFunction.builder("0000:00:06.0").bar(0, 4096).build())
            .hugepages(PageSize.parse("2M"), 100, 100)
            .build();
    bus = new PciBus(sysfs);
    sysfs.write("bus/pci/devices/0000:00:06.0/driver_override", "vfio-pci");
  }

  @AfterEach
  void stop() {
    writer.shutdownNow();
  }

  @Test
  void theNextBindFailsWithTheGivenErrnoThroughBindAndSilentlyThroughProbe() {
    sysfs.faults().failNextBind(B, Errno.ENOMEM);

    assertThatThrownBy(() -> sysfs.write("bus/pci/drivers/vfio-pci/bind", "0000:00:06.0"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.ENOMEM)).isTrue());
    assertThat(bus.function(B).driver()).isEmpty();
    sysfs.write("bus/pci/drivers/vfio-pci/bind", "0000:00:06.0");
    assertThat(bus.function(B).isBoundTo("vfio-pci")).as("only the next bind fails").isTrue();

    sysfs.write("bus/pci/drivers/vfio-pci/unbind", "0000:00:06.0");
    sysfs.faults().failNextBind(B, Errno.EIO);
    sysfs.write("bus/pci/drivers_probe", "0000:00:06.0");
    assertThat(bus.function(B).driver()).as("drivers_probe ignores the failed probe").isEmpty();
  }

  @Test
  void aHungUnbindHoldsOnlyItsOwnFunction() {
    SysfsFaults.Hang hang = sysfs.faults().hangNextUnbind(A);
    CompletableFuture<Void> unbind =
        CompletableFuture.runAsync(
            () -> sysfs.write("bus/pci/drivers/vfio-pci/unbind", "0000:00:05.0"), writer);
    await().atMost(Duration.ofSeconds(10)).until(hang::isHeld);

    sysfs.write("bus/pci/drivers/vfio-pci/bind", "0000:00:06.0");
    sysfs.write("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "4");
    assertThat(bus.function(B).isBoundTo("vfio-pci")).isTrue();
    assertThat(bus.function(A).isBoundTo("vfio-pci")).as("still inside the unbind").isTrue();
    assertThat(unbind).isNotDone();

    hang.release();
    await().atMost(Duration.ofSeconds(10)).until(unbind::isDone);
    assertThat(unbind).isCompleted();
    assertThat(bus.function(A).driver()).isEmpty();
  }

  @Test
  void aHangInsideRemoveHoldsRescanButNotBinding() {
    SysfsFaults.Hang hang = sysfs.faults().hangNextUnbind(A);
    CompletableFuture<Void> remove =
        CompletableFuture.runAsync(
            () -> sysfs.write("bus/pci/devices/0000:00:05.0/remove", "1"), writer);
    await().atMost(Duration.ofSeconds(10)).until(hang::isHeld);

    sysfs.write("bus/pci/drivers/vfio-pci/bind", "0000:00:06.0");
    assertThat(bus.function(B).isBoundTo("vfio-pci")).isTrue();
    CompletableFuture<Void> rescan =
        CompletableFuture.runAsync(() -> sysfs.write("bus/pci/rescan", "1"));
    assertThat(remove).isNotDone();
    assertThat(rescan).as("remove and rescan share the kernel's lock").isNotDone();

    hang.release();
    await().atMost(Duration.ofSeconds(10)).until(() -> remove.isDone() && rescan.isDone());
    assertThat(rescan).isCompleted();
    assertThat(bus.find(A)).as("removed, then found again by the rescan").isPresent();
  }

  @Test
  void aHungStoreThatIsInterruptedFailsWithEintrAndLeavesTheFunctionBound() throws Exception {
    SysfsFaults.Hang hang = sysfs.faults().hangNextUnbind(A);
    CompletableFuture<Void> unbind =
        CompletableFuture.runAsync(
            () -> sysfs.write("bus/pci/drivers/vfio-pci/unbind", "0000:00:05.0"), writer);
    await().atMost(Duration.ofSeconds(10)).until(hang::isHeld);

    writer.shutdownNow();
    await().atMost(Duration.ofSeconds(10)).until(unbind::isDone);
    assertThat(unbind)
        .failsWithin(Duration.ZERO)
        .withThrowableThat()
        .havingRootCause()
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.EINTR)).isTrue());
    assertThat(bus.function(A).isBoundTo("vfio-pci")).isTrue();
  }

  @Test
  void aHugepageReservationComesUpShortOnce() {
    sysfs.faults().limitNextHugepageReservation(PageSize.parse("2M"), 3);

    sysfs.write("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "10");
    assertThat(sysfs.readAttribute("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"))
        .isEqualTo("3");
    sysfs.write("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "10");
    assertThat(sysfs.readAttribute("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages"))
        .isEqualTo("10");
    String node1 = "devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages";
    long before = Long.parseLong(sysfs.readAttribute(node1));
    sysfs.faults().limitNextHugepageReservation(PageSize.parse("2M"), 1);
    sysfs.write(node1, "50");
    assertThat(Long.parseLong(sysfs.readAttribute(node1))).isEqualTo(before + 1);
  }
}
