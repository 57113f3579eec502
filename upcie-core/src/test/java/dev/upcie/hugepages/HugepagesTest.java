package dev.upcie.hugepages;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.procfs.Procfs;
import dev.upcie.support.Sizes;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pools, plans and mounts read from trees laid out like sysfs and procfs. */
class HugepagesTest {
  @TempDir Path root;
  private HugepageTreeFixture tree;
  private Hugepages hugepages;

  @BeforeEach
  void twoNodesTwoSizes() {
    tree =
        new HugepageTreeFixture(root)
            .pool("2048", 1024, 1000, 10, 2)
            .pool("1048576", 2, 2, 0, 0)
            .node(0, "2048", 512, 500)
            .node(1, "2048", 512, 500)
            .node(0, "1048576", 1, 1)
            .node(1, "1048576", 1, 1);
    hugepages = new Hugepages(Sysfs.of(tree.sys), Procfs.of(tree.proc));
  }

  @Test
  void readsEveryPoolPerSizeAndNode() {
    List<HugepagePool> pools = hugepages.pools();

    assertThat(hugepages.sizes()).extracting(PageSize::toString).containsExactly("2M", "1G");
    assertThat(hugepages.defaultSize()).isEqualTo(PageSize.parse("2M"));
    assertThat(hugepages.nodes()).containsExactly(0, 1);
    HugepagePool twoMb = pools.get(0);
    assertThat(twoMb.isDefault()).isTrue();
    assertThat(twoMb.total()).isEqualTo(1024);
    assertThat(twoMb.free()).isEqualTo(1000);
    assertThat(twoMb.reserved()).isEqualTo(10);
    assertThat(twoMb.surplus()).isEqualTo(2);
    assertThat(twoMb.available()).isEqualTo(990);
    assertThat(twoMb.nodes())
        .containsExactly(
            new HugepagePool.NodePool(0, 512, 500, 0), new HugepagePool.NodePool(1, 512, 500, 0));
    assertThat(pools.get(1).isDefault()).isFalse();
  }

  @Test
  void plansWriteThePerSizeFilesMachineWidePerNodeOrSplit() {
    PageSize twoMb = PageSize.parse("2M");

    assertThat(hugepages.reservations().planTotal(twoMb, 2048))
        .containsExactly(new PoolWrite(twoMb, OptionalInt.empty(), 2048));
    assertThat(hugepages.reservations().planTotal(twoMb, 2048).get(0).path())
        .isEqualTo("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages");
    assertThat(hugepages.reservations().planPerNode(twoMb, 100))
        .extracting(PoolWrite::path)
        .containsExactly(
            "devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages",
            "devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages");
    assertThat(hugepages.reservations().planSplit(twoMb, Map.of(1, 7L, 0, 3L)))
        .extracting(PoolWrite::toString)
        .containsExactly("3 x 2M on node 0", "7 x 2M on node 1");
  }

  @Test
  void applyWritesAndReadsBack() throws Exception {
    PageSize oneGb = PageSize.parse("1G");

    Reservation r = hugepages.reservations().apply(hugepages.reservations().planTotal(oneGb, 4));

    assertThat(r.isComplete()).isTrue();
    assertThat(r.outcomes())
        .singleElement()
        .satisfies(o -> {
          assertThat(o.before()).isEqualTo(2);
          assertThat(o.after()).isEqualTo(4);
          assertThat(o.attempts()).isEqualTo(1);
        });
    assertThat(
            Files.readString(
                tree.sys.resolve("kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages")))
        .isEqualTo("4");
  }

  @Test
  void badRequestsSayWhatWouldWork() {
    PageSize twoMb = PageSize.parse("2M");

    assertThatThrownBy(() -> hugepages.pages(twoMb, Sizes.parse("3M")))
        .isInstanceOf(UpcieException.class)
        .hasMessage("3 MiB is not a whole number of 2M pages; ask for 2 MiB or 4 MiB");
    assertThatThrownBy(() -> hugepages.reservations().planTotal(PageSize.parse("16M"), 1))
        .hasMessage("this kernel has no 16M hugepages; its sizes are [2M, 1G]");
    assertThatThrownBy(() -> hugepages.reservations().planSplit(twoMb, Map.of(3, 1L)))
        .hasMessage("there is no NUMA node 3 with hugepages; nodes: [0, 1]");
    assertThatThrownBy(
            () -> new Hugepages(Sysfs.of(root.resolve("empty")), Procfs.of(tree.proc)).sizes())
        .hasMessageContaining("this kernel has no hugepage support");
  }

  @Test
  void mountsCarryTheirPageSizeAndUnmountedSizesAreNamed() {
    tree.mounts(
        "proc /proc proc rw 0 0\n"
            + "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n"
            + "nodev /mnt/huge\\040one hugetlbfs rw,relatime 0 0\n");

    assertThat(hugepages.hugetlbfs().list())
        .containsExactly(
            new HugetlbfsMount(
                Path.of("/dev/hugepages"),
                PageSize.parse("2M"),
                List.of("rw", "relatime", "pagesize=2M")),
            new HugetlbfsMount(
                Path.of("/mnt/huge one"), PageSize.parse("2M"), List.of("rw", "relatime")));
    assertThat(hugepages.hugetlbfs().sizesWithoutMount()).containsExactly(PageSize.parse("1G"));
    assertThat(hugepages.hugetlbfs().mountCommand(Path.of("/mnt/huge1G"), PageSize.parse("1G")))
        .isEqualTo("mkdir -p /mnt/huge1G && mount -t hugetlbfs -o pagesize=1G nodev /mnt/huge1G");
  }

  @Test
  void mountingOverAMountOfAnotherPageSizeIsRefused() {
    tree.mounts("hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n");

    assertThatThrownBy(
            () -> hugepages.hugetlbfs().mount(Path.of("/dev/hugepages"), PageSize.parse("1G")))
        .isInstanceOf(UpcieException.class)
        .hasMessage(
            "/dev/hugepages is already a hugetlbfs mount with page size 2M, not 1G; unmount it"
                + " (umount /dev/hugepages) or choose another directory");
    assertThat(
            hugepages
                .hugetlbfs()
                .mount(Path.of("/dev/hugepages"), PageSize.parse("2M"))
                .mountPoint())
        .as("the same size again is nothing to do")
        .isEqualTo(Path.of("/dev/hugepages"));
  }

  @Test
  void sizesParseAsTheKernelAndPeopleWriteThem() {
    assertThat(PageSize.parse("2048kB")).isEqualTo(PageSize.parse("2M")).hasToString("2M");
    assertThat(PageSize.parse("1048576kB").sysfsName()).isEqualTo("hugepages-1048576kB");
    assertThat(PageSize.parse("1GiB")).hasToString("1G");
    assertThat(Sizes.parse("4g")).isEqualTo(4L << 30);
    assertThat(Sizes.parse("512")).isEqualTo(512);
    assertThatThrownBy(() -> Sizes.parse("4X")).hasMessageStartingWith("invalid size \"4X\"");
    assertThatThrownBy(() -> PageSize.parse("3K")).hasMessageContaining("powers of two");
  }

  @Test
  void procfsReadsMeminfoAndTheMemlockLimit() {
    Procfs proc = Procfs.of(tree.proc);

    assertThat(proc.meminfo())
        .containsEntry("Hugepagesize", 2048L)
        .containsEntry("MemTotal", 24000000L);
    assertThat(proc.memlockLimit()).hasValue(8388608);
  }
}
