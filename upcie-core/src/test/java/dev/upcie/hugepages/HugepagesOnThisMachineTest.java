package dev.upcie.hugepages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.upcie.procfs.Procfs;
import dev.upcie.support.UpcieException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pools, reservations and mounts of this machine's kernel. */
public class HugepagesOnThisMachineTest {
  private static final PageSize TWO_MB = PageSize.parse("2M");

  @Test
  void theDefaultPoolAgreesWithProcMeminfo() {
    assumeTrue(Files.isDirectory(Path.of("/sys/kernel/mm/hugepages")), "no hugepage support");
    Hugepages hugepages = Hugepages.system();
    Map<String, Long> meminfo = Procfs.system().meminfo();

    HugepagePool pool = hugepages.pool(hugepages.defaultSize());

    assertThat(hugepages.defaultSize().kilobytes()).isEqualTo(meminfo.get("Hugepagesize"));
    assertThat(pool.total()).isEqualTo(meminfo.get("HugePages_Total"));
    assertThat(pool.free()).isEqualTo(meminfo.get("HugePages_Free"));
    assertThat(pool.reserved()).isEqualTo(meminfo.get("HugePages_Rsvd"));
    assertThat(pool.surplus()).isEqualTo(meminfo.get("HugePages_Surp"));
    assertThat(pool.nodes().stream().mapToLong(HugepagePool.NodePool::total).sum())
        .as("the nodes add up to the pool")
        .isEqualTo(pool.total());
  }

  @Test
  void aReservationIsWhatTheKernelReportsAfterwards() throws Exception {
    try (RealHugepages real = RealHugepages.require()) {
      Hugepages hugepages = real.hugepages();
      real.remember(TWO_MB);
      long before = hugepages.pool(TWO_MB).total();

      Reservation grow =
          hugepages.reservations().apply(hugepages.reservations().planTotal(TWO_MB, before + 8));

      Reservation.Outcome outcome = grow.outcomes().get(0);
      assertThat(outcome.before()).isEqualTo(before);
      assertThat(outcome.after())
          .as("read independently from sysfs")
          .isEqualTo(
              Long.parseLong(read("/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")));
      // The kernel may grant fewer pages than asked; either way meminfo shows what it granted.
      assertThat(grow.isComplete()).isEqualTo(outcome.after() == before + 8);
      assertThat(Procfs.system().meminfo().get("HugePages_Total"))
          .as("meminfo shows the default (2M) pool")
          .isEqualTo(outcome.after());

      Reservation release =
          hugepages.reservations().apply(hugepages.reservations().planTotal(TWO_MB, before));
      assertThat(release.isComplete()).isTrue();
    }
  }

  @Test
  void aOneGigabyteReservationReportsExactlyWhatItGot() throws Exception {
    try (RealHugepages real = RealHugepages.require()) {
      PageSize oneGb = PageSize.parse("1G");
      assumeTrue(real.hugepages().sizes().contains(oneGb), "no 1G hugepages on this machine");
      real.remember(oneGb);
      long before = real.hugepages().pool(oneGb).total();

      Reservation r =
          real.hugepages()
              .reservations()
              .apply(real.hugepages().reservations().planTotal(oneGb, before + 1));

      // The machine-wide figure against the per-node files, read without the code under test.
      long perNode = 0;
      try (var nodes = Files.list(Path.of("/sys/devices/system/node"))) {
        for (Path node :
            nodes.filter(p -> p.getFileName().toString().matches("node\\d+")).toList()) {
          Path nr = node.resolve("hugepages/hugepages-1048576kB/nr_hugepages");
          if (Files.exists(nr)) {
            perNode += Long.parseLong(Files.readString(nr).strip());
          }
        }
      }
      assertThat(r.outcomes().get(0).after()).isEqualTo(perNode);
      assertThat(r.isComplete()).isEqualTo(perNode == before + 1);
    }
  }

  @Test
  void aMountThroughASymbolicLinkIsTheMountTheKernelShows(@TempDir Path dir) throws Exception {
    try (RealHugepages real = RealHugepages.require()) {
      Hugepages hugepages = real.hugepages();
      Path realDir = Files.createDirectories(dir.resolve("real"));
      Path link = Files.createSymbolicLink(dir.resolve("link"), realDir);

      HugetlbfsMount mount = hugepages.hugetlbfs().mount(link.resolve("h"), TWO_MB);
      try {
        assertThat(mount.mountPoint()).isEqualTo(realDir.toRealPath().resolve("h"));
        assertThat(hugepages.hugetlbfs().mount(link.resolve("h"), TWO_MB))
            .as("not mounted twice")
            .isEqualTo(mount);
        assertThat(hugepages.hugetlbfs().list().stream().filter(m -> m.equals(mount))).hasSize(1);
      } finally {
        hugepages.hugetlbfs().unmount(link.resolve("h"));
      }
      assertThat(hugepages.hugetlbfs().list()).doesNotContain(mount);
    }
  }

  @Test
  void mountsAndUnmountsHugetlbfsOfAGivenSize(@TempDir Path dir) {
    try (RealHugepages real = RealHugepages.require()) {
      Hugepages hugepages = real.hugepages();
      Path target = dir.resolve("huge2M");

      HugetlbfsMount mount = hugepages.hugetlbfs().mount(target, TWO_MB);
      try {
        assertThat(Files.isDirectory(target)).as("created").isTrue();
        assertThat(mount.pageSize()).isEqualTo(TWO_MB);
        assertThat(hugepages.hugetlbfs().list()).contains(mount);
        assertThat(hugepages.hugetlbfs().mount(target, TWO_MB))
            .as("mounting again is nothing to do")
            .isEqualTo(mount);
        if (hugepages.sizes().contains(PageSize.parse("1G"))) {
          assertThatThrownBy(() -> hugepages.hugetlbfs().mount(target, PageSize.parse("1G")))
              .isInstanceOf(UpcieException.class)
              .hasMessageContaining("is already a hugetlbfs mount with page size 2M, not 1G");
        }
      } finally {
        hugepages.hugetlbfs().unmount(target);
      }
      assertThat(hugepages.hugetlbfs().list()).doesNotContain(mount);
      assertThatThrownBy(() -> hugepages.hugetlbfs().unmount(target))
          .hasMessage("no hugetlbfs is mounted at " + target);
    }
  }

  private static String read(String path) throws IOException {
    return Files.readString(Path.of(path), StandardCharsets.UTF_8).strip();
  }
}
