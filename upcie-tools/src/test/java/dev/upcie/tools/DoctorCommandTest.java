package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code upcie devbind doctor} against trees written for the test: a machine ready for VFIO (an
 * IOMMU, vfio-pci loaded, hugepages reserved and mounted, no memlock limit), and the same machine
 * without hugepages.
 */
class DoctorCommandTest {
  private static final String RELEASE = "6.1.0-test-amd64";

  @TempDir Path dir;
  private Path sys;
  private Path proc;
  private Path modules;

  @BeforeEach
  void writeAReadyMachine() {
    sys = dir.resolve("sys");
    proc = dir.resolve("proc");
    modules = dir.resolve("modules");
    write(proc.resolve("cmdline"), "BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on iommu=pt\n");
    write(proc.resolve("sys/kernel/osrelease"), RELEASE + "\n");
    write(proc.resolve("sys/kernel/tainted"), "0\n");
    write(proc.resolve("meminfo"), "MemTotal: 16384000 kB\nHugepagesize: 2048 kB\n");
    write(
        proc.resolve("mounts"),
        "sysfs /sys sysfs rw 0 0\n"
            + "securityfs /sys/kernel/security securityfs rw 0 0\n"
            + "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n");
    write(proc.resolve("self/limits"), "Max locked memory  unlimited  unlimited  bytes\n");
    write(proc.resolve("self/status"), "Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000000\n");
    write(proc.resolve("cpuinfo"), "vendor_id\t: GenuineIntel\nflags\t\t: fpu\n");
    write(sys.resolve("kernel/security/lockdown"), "[none] integrity confidentiality\n");
    write(sys.resolve("class/iommu/dmar0/uevent"), "");
    write(sys.resolve("kernel/iommu_groups/0/type"), "DMA\n");
    for (String module : List.of("vfio", "vfio_pci", "vfio_iommu_type1", "uio_pci_generic")) {
      write(sys.resolve("module/" + module + "/initstate"), "live\n");
    }
    write(sys.resolve("module/vfio/parameters/enable_unsafe_noiommu_mode"), "N\n");
    write(sys.resolve("module/vfio_iommu_type1/parameters/dma_entry_limit"), "65535\n");
    write(sys.resolve("bus/pci/drivers/vfio-pci/uevent"), "");
    write(sys.resolve("bus/pci/drivers/uio_pci_generic/uevent"), "");
    hugepages(512);
    write(modules.resolve(RELEASE + "/modules.builtin"), "");
    write(modules.resolve(RELEASE + "/modules.dep"), "kernel/drivers/iommu/iommufd/iommufd.ko:\n");
  }

  private void hugepages(int pages) {
    Path pool = sys.resolve("kernel/mm/hugepages/hugepages-2048kB");
    write(pool.resolve("nr_hugepages"), pages + "\n");
    write(pool.resolve("free_hugepages"), pages + "\n");
    write(pool.resolve("resv_hugepages"), "0\n");
    write(pool.resolve("surplus_hugepages"), "0\n");
    write(pool.resolve("nr_overcommit_hugepages"), "0\n");
  }

  private CommandResult doctor(String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "devbind",
                "doctor",
                "--sysfs-root",
                sys.toString(),
                "--proc-root",
                proc.toString(),
                "--modules-root",
                modules.toString()));
    args.addAll(List.of(extra));
    return upcie(args.toArray(String[]::new));
  }

  private static CommandResult upcie(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Upcie.run(args, new PrintWriter(out), new PrintWriter(err));
    return new CommandResult(exit, out.toString(), err.toString());
  }

  @Test
  void aReadyMachinePrintsOneLinePerFindingAndExitsZero() {
    CommandResult r = doctor();

    assertThat(r.exit()).as("stdout: %s", r.out()).isZero();
    assertThat(r.err()).isEmpty();
    List<String> lines = r.out().lines().toList();
    assertThat(lines.getFirst()).matches("STATUS +CHECK +FINDING");
    assertThat(lines)
        .as("a header, twelve findings, a blank line, the summary")
        .hasSize(15)
        .anySatisfy(l -> assertThat(l).matches("OK +iommu +IOMMU on: .*dmar0.*intel_iommu=on.*"))
        .anySatisfy(l -> assertThat(l).matches("OK +vfio-modules +vfio_pci is loaded .*"))
        .anySatisfy(l -> assertThat(l).matches("OK +hugepages +hugepages reserved .*2M: 512.*"));
    assertThat(lines.getLast()).endsWith("ready for user-space drivers");
  }

  @Test
  void aProblemExitsSevenAndNamesItsFix() {
    hugepages(0);

    CommandResult r = doctor();

    assertThat(r.exit()).isEqualTo(ExitCode.ENVIRONMENT.code()).isEqualTo(7);
    assertThat(r.out())
        .containsPattern(
            "PROBLEM +hugepages +no hugepages are reserved .*; fix: upcie hugepages reserve 1G\n")
        .contains("1 problem")
        .contains("cannot work here until the problems are fixed");
  }

  @Test
  void jsonIsVersionedAndCarriesEveryFinding() throws Exception {
    hugepages(0);

    CommandResult r = doctor("--json");

    assertThat(r.exit()).isEqualTo(7);
    JsonNode document = new ObjectMapper().readTree(r.out());
    assertThat(document.get("schema").asText()).isEqualTo("upcie.devbind.doctor/1");
    assertThat(document.get("ready").asBoolean()).isFalse();
    JsonNode findings = document.get("findings");
    assertThat(findings).hasSize(12);
    List<String> ids = new ArrayList<>();
    findings.forEach(f -> ids.add(f.get("id").asText()));
    assertThat(ids).startsWith("privileges", "iommu").contains("memlock", "hugepages");
    JsonNode hugepages = findings.get(ids.indexOf("hugepages"));
    assertThat(hugepages.get("status").asText()).isEqualTo("problem");
    assertThat(hugepages.get("found").asText()).contains("no hugepages are reserved");
    assertThat(hugepages.get("fix").asText()).isEqualTo("upcie hugepages reserve 1G");
    JsonNode iommu = findings.get(ids.indexOf("iommu"));
    assertThat(iommu.get("status").asText()).isEqualTo("ok");
    assertThat(iommu.get("fix").isNull()).isTrue();
  }

  @Test
  void theMemlockNeedCanBeGiven() {
    write(proc.resolve("self/limits"), "Max locked memory  8388608  8388608  bytes\n");

    assertThat(doctor("--memlock-need", "4M").out()).containsPattern("OK +memlock +.*enough for");
    CommandResult low = doctor("--memlock-need", "1G");
    assertThat(low.exit()).isEqualTo(7);
    assertThat(low.out()).containsPattern("PROBLEM +memlock +RLIMIT_MEMLOCK is 8 MiB");
  }

  @Test
  void theSimulatedMachineHasAnIommu() {
    CommandResult r = upcie("devbind", "doctor", "--sysfs-root", "sim:q35");

    assertThat(r.exit()).isIn(0, 7);
    assertThat(r.out()).containsPattern("OK +iommu +IOMMU on: .* 8 groups");
  }

  @Test
  void aMissingModulesRootIsAUsageError() {
    Path nowhere = dir.resolve("nowhere");

    upcie("devbind", "doctor", "--modules-root", nowhere.toString())
        .assertOneLineError(2, "--modules-root " + nowhere + ": no such directory");
  }

  private static void write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
