package dev.upcie.sim.sysfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.errno.Errno;
import dev.upcie.hugepages.HugepagePool;
import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.PageSize;
import dev.upcie.hugepages.Reservation;
import dev.upcie.procfs.Procfs;
import dev.upcie.sysfs.SysfsException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The core's hugepage logic against a simulated kernel that can run short. */
class SimHugepagesTest {
  private static final PageSize TWO_MB = PageSize.parse("2M");
  private static final PageSize ONE_GB = PageSize.parse("1G");

  private SimSysfs sysfs;
  private Hugepages hugepages;

  @BeforeEach
  void twoNodes() {
    sysfs = SimSysfs.builder().hugepages(TWO_MB, 100, 50).hugepages(ONE_GB, 1, 0).build();
    // No procfs: the default size falls back to the smallest.
    hugepages = new Hugepages(sysfs, Procfs.of(Path.of("/nonexistent")));
  }

  @Test
  void aMachineWideRequestIsSpreadOverNodesAndReadBack() {
    Reservation r = hugepages.reservations().apply(hugepages.reservations().planTotal(TWO_MB, 60));

    assertThat(r.isComplete()).isTrue();
    HugepagePool pool = hugepages.pool(TWO_MB);
    assertThat(pool.total()).isEqualTo(60);
    assertThat(pool.nodes()).extracting(HugepagePool.NodePool::total).containsExactly(30L, 30L);
    assertThat(pool.isDefault()).isTrue();
  }

  @Test
  void aRequestBeyondWhatTheKernelHasIsPartialAndSaysWhatItGot() {
    Reservation r = hugepages.reservations().apply(hugepages.reservations().planTotal(TWO_MB, 200));

    assertThat(r.isComplete()).isFalse();
    Reservation.Outcome outcome = r.outcomes().get(0);
    assertThat(outcome.after()).isEqualTo(150);
    assertThat(outcome.attempts()).as("compaction was tried twice more").isEqualTo(3);
  }

  @Test
  void perNodeAndSplitRequestsWriteEachNode() {
    Reservation perNode =
        hugepages.reservations().apply(hugepages.reservations().planPerNode(TWO_MB, 40));
    assertThat(perNode.isComplete()).isTrue();
    assertThat(hugepages.pool(TWO_MB).total()).isEqualTo(80);

    Reservation split =
        hugepages
            .reservations()
            .apply(hugepages.reservations().planSplit(TWO_MB, Map.of(0, 90L, 1, 60L)));
    assertThat(split.outcomes()).extracting(Reservation.Outcome::after).containsExactly(90L, 50L);
    assertThat(split.isComplete()).as("node 1 holds only 50").isFalse();

    Reservation oneGb =
        hugepages.reservations().apply(hugepages.reservations().planPerNode(ONE_GB, 1));
    assertThat(oneGb.outcomes()).extracting(Reservation.Outcome::after).containsExactly(1L, 0L);
  }

  @Test
  void releasingShrinksThePool() {
    hugepages.reservations().apply(hugepages.reservations().planTotal(TWO_MB, 100));

    Reservation release =
        hugepages.reservations().apply(hugepages.reservations().planTotal(TWO_MB, 0));

    assertThat(release.isComplete()).isTrue();
    assertThat(hugepages.pool(TWO_MB).nodes())
        .extracting(HugepagePool.NodePool::total)
        .containsExactly(0L, 0L);
  }

  @Test
  void theKernelRefusesWhatIsNotACount() {
    assertThatThrownBy(
            () -> sysfs.write("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "lots"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.EINVAL)).isTrue());
    assertThatThrownBy(
            () -> sysfs.write("kernel/mm/hugepages/hugepages-2048kB/free_hugepages", "1"))
        .isInstanceOfSatisfying(SysfsException.class, e -> assertThat(e.is(Errno.EACCES)).isTrue());
  }
}
