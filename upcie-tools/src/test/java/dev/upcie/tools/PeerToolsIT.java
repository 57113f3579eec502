package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.pci.PeerListings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@code upcie devbind list} on this machine against the tools it replaces, run beside it: every
 * function and driver that {@code lspci -Dk} and {@code driverctl list-devices} show, and the
 * functions {@code dpdk-devbind.py --status} shows (it lists only some classes). In CI ({@code
 * upcie.ci=true}) a missing peer fails the run; ci/setup installs them.
 */
class PeerToolsIT {
  private static final boolean CI = Boolean.getBoolean("upcie.ci");

  @Test
  void lspciListsTheSameFunctionsAndDrivers() throws Exception {
    assertThat(ours()).isEqualTo(PeerListings.lspci(peer("lspci", "lspci", "-Dk")));
  }

  @Test
  void driverctlListsTheSameFunctionsAndDrivers() throws Exception {
    assertThat(ours())
        .isEqualTo(PeerListings.driverctl(peer("driverctl", "driverctl", "list-devices")));
  }

  @Test
  void whatDpdkDevbindListsAgreesWithOurs() throws Exception {
    Map<String, String> dpdk =
        PeerListings.dpdkDevbind(peer("dpdk", "dpdk-devbind.py", "--status"));
    assertThat(ours()).containsAllEntriesOf(dpdk);
  }

  /** Our listing of this machine: address → driver, {@code -} for none. */
  private static Map<String, String> ours() throws Exception {
    CommandResult r = JarRunner.run(List.of(), JarRunner.JAR, "devbind", "list", "--json");
    assertThat(r.exit()).as("stderr: %s", r.err()).isZero();
    Map<String, String> drivers = new TreeMap<>();
    for (JsonNode f : new ObjectMapper().readTree(r.out()).get("functions")) {
      drivers.put(
          f.get("address").asText(), f.get("driver").isNull() ? "-" : f.get("driver").asText());
    }
    return drivers;
  }

  /** Runs a peer tool (of Debian package {@code pkg}) and returns what it printed. */
  private static String peer(String pkg, String... command)
      throws IOException, InterruptedException {
    boolean present =
        Files.isExecutable(Path.of("/usr/bin", command[0]))
            || Files.isExecutable(Path.of("/usr/sbin", command[0]));
    if (!CI) {
      assumeTrue(
          present,
          command[0] + " is not installed (Debian package " + pkg + "; ci/setup installs it)");
    }
    assertThat(present)
        .as("%s (Debian package %s, which ci/setup installs)", command[0], pkg)
        .isTrue();
    Process process =
        new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
    assertThat(process.exitValue()).as("%s exit status", command[0]).isZero();
    return out;
  }
}
