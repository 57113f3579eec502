package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.sim.SimMachine;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code upcie hugepages} against the simulated q35 machine exported to disk, and a procfs tree.
 */
class HugepagesCommandTest {
  @TempDir Path dir;
  private Path sys;
  private Path proc;

  @BeforeEach
  void trees() throws Exception {
    sys = dir.resolve("sys");
    proc = dir.resolve("proc");
    SimMachine.qemuQ35().sysfs().copyTo(sys);
    Files.createDirectories(proc.resolve("self"));
    Files.writeString(proc.resolve("meminfo"), "Hugepagesize:       2048 kB\n");
    Files.writeString(
        proc.resolve("mounts"), "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n");
    Files.writeString(
        proc.resolve("self/limits"),
        "Max locked memory         65536                65536                bytes\n");
  }

  @Test
  void statusShowsPoolsPerNodeMountsAndWhatIsMissing() {
    CommandResult r = upcie("hugepages", "status");

    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .containsPattern("2M \\(default\\) +all +0 +0 +0 +0 +0 +0 B")
        .containsPattern("1G +0 +0 +0 +- +0 +- +0 B")
        .contains("/dev/hugepages  2M")
        .contains("no hugetlbfs mount for 1G pages (upcie hugepages mount --pagesize 1G)")
        .contains("locked-memory limit: 64 KiB");
  }

  @Test
  void statusJsonIsVersionedAndComplete() throws Exception {
    JsonNode doc = new ObjectMapper().readTree(upcie("hugepages", "status", "--json").out());

    assertThat(doc.get("schema").asText()).isEqualTo("upcie.hugepages.status/1");
    assertThat(doc.get("pools")).hasSize(2);
    JsonNode twoMb = doc.get("pools").get(0);
    assertThat(twoMb.get("size_kb").asLong()).isEqualTo(2048);
    assertThat(twoMb.get("default").asBoolean()).isTrue();
    assertThat(twoMb.get("nodes").get(0).get("node").asInt()).isZero();
    assertThat(doc.get("mounts").get(0).get("path").asText()).isEqualTo("/dev/hugepages");
    assertThat(doc.get("sizes_without_mount_kb").get(0).asLong()).isEqualTo(1048576);
    assertThat(doc.get("memlock_limit_bytes").asLong()).isEqualTo(65536);
  }

  @Test
  void aDryRunPrintsEveryWriteAndChangesNothing() throws Exception {
    CommandResult r = upcie("hugepages", "reserve", "64M", "--per-node", "--dry-run");

    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .isEqualTo(
            "would write 32 to "
                + sys.resolve("devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages")
                + "  (32 x 2M on node 0, 64 MiB)\n");
    assertThat(Files.readString(sys.resolve("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")))
        .isEqualTo("0\n");
    assertThat(upcie("hugepages", "release", "--dry-run").out().lines())
        .containsExactly(
            "would write 0 to "
                + sys.resolve("kernel/mm/hugepages/hugepages-2048kB/nr_hugepages")
                + "  (0 x 2M machine-wide, 0 B)",
            "would write 0 to "
                + sys.resolve("kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages")
                + "  (0 x 1G machine-wide, 0 B)");
    assertThat(upcie("hugepages", "mount", "--pagesize", "1G", "--dry-run").out())
        .isEqualTo(
            "mkdir -p /dev/hugepages-1G && mount -t hugetlbfs -o pagesize=1G nodev /dev/hugepages-1G\n");
  }

  @Test
  void aReservationReportsEachPoolBeforeAndAfter() throws Exception {
    CommandResult total = upcie("hugepages", "reserve", "64M");
    CommandResult split = upcie("hugepages", "reserve", "0=1G", "--pagesize", "1G");
    CommandResult pages = upcie("hugepages", "reserve", "--pages", "4");

    assertThat(total.out()).isEqualTo("2M machine-wide: 0 -> 32 pages (64 MiB)\n");
    assertThat(split.out()).isEqualTo("1G node 0: 0 -> 1 pages (1 GiB)\n");
    assertThat(pages.out()).isEqualTo("2M machine-wide: 32 -> 4 pages (8 MiB)\n");
    assertThat(List.of(total.exit(), split.exit(), pages.exit())).containsOnly(0);
  }

  @Test
  void badRequestsAreOneLineUsageErrors() {
    upcie("hugepages", "reserve", "3M")
        .assertOneLineError(2, "3 MiB is not a whole number of 2M pages");
    upcie("hugepages", "reserve", "4G", "--pages", "2").assertOneLineError(2, "not both");
    upcie("hugepages", "reserve").assertOneLineError(2, "not neither");
    upcie("hugepages", "reserve", "--pagesize", "16M", "--pages", "1")
        .assertOneLineError(2, "this kernel has no 16M hugepages; its sizes are [2M, 1G]");
    upcie("hugepages", "reserve", "0=2M,7=2M").assertOneLineError(2, "there is no NUMA node 7");
    upcie("hugepages", "reserve", "0=2M", "--per-node").assertOneLineError(2, "drop --per-node");
    upcie("hugepages", "mount", "/mnt/x")
        .assertOneLineError(2, "--sysfs-root and --proc-root work only with --dry-run");
    upcie("hugepages", "unmount", "/mnt/x")
        .assertOneLineError(2, "--sysfs-root and --proc-root work only with --dry-run");
    upcie("hugepages", "reserve", "99999999999=4G")
        .assertOneLineError(2, "there is no NUMA node 99999999999");
    upcie("hugepages", "reserve", "--pages", "1000000000000000000", "--dry-run")
        .assertOneLineError(2, "is more memory than any machine has");
  }

  @Test
  void moreThanTheMachinesMemoryNeedsForce() throws Exception {
    Files.writeString(proc.resolve("meminfo"), "MemTotal:  1048576 kB\nHugepagesize:  2048 kB\n");

    upcie("hugepages", "reserve", "2G", "--dry-run")
        .assertOneLineError(
            2,
            "asking for 2 GiB of hugepages, more than this machine's 1 GiB of memory: the kernel"
                + " would take every free page on the way to refusing; ask for less, or add --force");
    assertThat(upcie("hugepages", "reserve", "2G", "--dry-run", "--force").exit()).isZero();
  }

  private CommandResult upcie(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--sysfs-root", sys.toString(), "--proc-root", proc.toString()));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Upcie.run(all.toArray(String[]::new), new PrintWriter(out), new PrintWriter(err));
    return new CommandResult(exit, out.toString(), err.toString());
  }
}
