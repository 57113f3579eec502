package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.procfs.Procfs;
import dev.upcie.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code upcie hugepages} as a process on this machine's kernel: root, and nobody. */
class HugepagesJarIT {
  private static final Path JAR = JarRunner.JAR;
  private static final Path POOLS = Path.of("/sys/kernel/mm/hugepages");
  private final Map<Path, String> saved = new HashMap<>();

  @BeforeEach
  void needsRootAndHugepages() throws IOException {
    boolean ci = Boolean.getBoolean("upcie.ci");
    if (!Files.isDirectory(POOLS) || Syscalls.geteuid() != 0) {
      assertThat(ci).as("these tests need root and hugepages, and upcie.ci=true").isFalse();
      Assumptions.abort("needs root and a kernel with hugepages");
    }
    try (Stream<Path> sizes = Files.list(POOLS)) {
      for (Path size : sizes.toList()) {
        Path nr = size.resolve("nr_hugepages");
        saved.put(nr, Files.readString(nr).strip());
      }
    }
  }

  @AfterEach
  void restorePools() throws IOException {
    for (Map.Entry<Path, String> e : saved.entrySet()) {
      Files.writeString(e.getKey(), e.getValue());
    }
  }

  @Test
  void statusAgreesWithProcMeminfoAndDpdkHugepages() throws Exception {
    assertThat(run(List.of(), "hugepages", "reserve", "--pages", "6", "--pagesize", "2M").exit())
        .as("the reservation the comparison needs")
        .isZero();

    CommandResult r = run(List.of(), "hugepages", "status", "--json");

    assertThat(r.exit()).isZero();
    assertThat(r.err()).isEmpty();
    JsonNode pools = new ObjectMapper().readTree(r.out()).get("pools");
    Map<String, Long> meminfo = Procfs.system().meminfo();
    JsonNode defaultPool = null;
    for (JsonNode pool : pools) {
      if (pool.get("default").asBoolean()) {
        defaultPool = pool;
      }
    }
    assertThat(defaultPool).isNotNull();
    assertThat(defaultPool.get("size_kb").asLong()).isEqualTo(meminfo.get("Hugepagesize"));
    assertThat(defaultPool.get("total").asLong()).isEqualTo(meminfo.get("HugePages_Total"));
    assertThat(defaultPool.get("free").asLong()).isEqualTo(meminfo.get("HugePages_Free"));
    assertThat(defaultPool.get("reserved").asLong()).isEqualTo(meminfo.get("HugePages_Rsvd"));
    assertThat(defaultPool.get("surplus").asLong()).isEqualTo(meminfo.get("HugePages_Surp"));

    Path dpdk = Path.of("/usr/bin/dpdk-hugepages.py");
    if (!Files.isExecutable(dpdk)) {
      assertThat(Boolean.getBoolean("upcie.ci"))
          .as("dpdk-hugepages.py missing, upcie.ci=true")
          .isFalse();
      Assumptions.abort(
          "the pools match /proc/meminfo; dpdk-hugepages.py (Debian package dpdk) is missing, so"
              + " the comparison with the peer was not made");
    }
    List<String> theirs = new ArrayList<>();
    for (String line : run(dpdk, "-s").lines().toList()) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 4 && f[0].matches("\\d+")) {
        theirs.add(f[0] + " " + f[1] + " " + kilobytes(f[2]));
      }
    }
    List<String> ours = new ArrayList<>();
    for (JsonNode pool : pools) {
      for (JsonNode node : pool.get("nodes")) {
        if (node.get("total").asLong() > 0) {
          ours.add(
              node.get("node").asInt()
                  + " "
                  + node.get("total").asLong()
                  + " "
                  + pool.get("size_kb").asLong());
        }
      }
    }
    assertThat(ours).isNotEmpty().containsExactlyInAnyOrderElementsOf(theirs);
  }

  @Test
  void theSimulatedKernelStandsInAndAPartialReservationHasItsOwnExitStatus() throws Exception {
    // The simulated q35 kernel can find 768 2M pages (1.5 GiB); ask for 2 GiB. The real kernel is
    // not asked for the impossible: it would take every free page on the way to refusing.
    CommandResult r = run(List.of(), "hugepages", "reserve", "2G", "--sysfs-root", "sim:q35");

    assertThat(r.exit()).isEqualTo(5);
    assertThat(r.out()).isEqualTo("2M machine-wide: 0 -> 768 pages (1.5 GiB)\n");
    r.assertOneLineErrorOnStderr(
        "upcie: partial: the kernel granted 768 of 1024 2M pages machine-wide after 3 attempts with"
            + " memory compaction; memory is too fragmented or too small");
  }

  @Test
  void anOrdinaryUserReadsStatusButCannotReserve(@TempDir Path dir) throws Exception {
    Path setpriv = Path.of("/usr/bin/setpriv");
    Assumptions.assumeTrue(Files.isExecutable(setpriv), "needs setpriv to run as nobody");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path jar = Files.copy(JAR, dir.resolve("upcie.jar"));
    Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));
    List<String> nobody =
        List.of(setpriv.toString(), "--reuid=65534", "--regid=65534", "--clear-groups");

    assertThat(run(nobody, jar, "hugepages", "status").exit()).isZero();
    run(nobody, jar, "hugepages", "reserve", "--pages", "1")
        .assertOneLineError(4, "EACCES (Permission denied): writing sysfs needs root");
  }

  private static long kilobytes(String dpdkSize) {
    long number = Long.parseLong(dpdkSize.replaceAll("[^0-9]", ""));
    return dpdkSize.startsWith(number + "G")
        ? number << 20
        : dpdkSize.startsWith(number + "M") ? number << 10 : number;
  }

  private static String run(Path tool, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(tool.toString()));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return out;
  }

  private static CommandResult run(List<String> prefix, String... args) throws Exception {
    return JarRunner.run(prefix, JAR, args);
  }

  private static CommandResult run(List<String> prefix, Path jar, String... args) throws Exception {
    return JarRunner.run(prefix, jar, args);
  }
}
