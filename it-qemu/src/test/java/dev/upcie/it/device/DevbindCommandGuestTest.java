package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.upcie.host.Host;
import dev.upcie.pci.BindingJournal;
import dev.upcie.pci.FunctionNode;
import dev.upcie.pci.FunctionNodes;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciId;
import dev.upcie.tools.Upcie;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code upcie devbind} against the guests' real kernels, run in this JVM as a user runs it: a
 * mounted filesystem on the NVMe controller is refused by name (exit 6) and changes nothing; a move
 * is journaled and kept across commands, and {@code restore} undoes it; {@code --owner} hands the
 * VFIO group node to another user.
 *
 * <p>Guest only: on the host there is no kernel NVMe to mount, and the simulated machine lives for
 * one command.
 */
@Tag(GuestRun.GUEST_ONLY)
public class DevbindCommandGuestTest {
  private static final PciId NVME = PciId.parse("1b36:0010");
  private static final PciId EDU = PciId.parse("1234:11e8");

  private record Result(int exit, String out, String err) {}

  private static Result upcie(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Upcie.run(args, new PrintWriter(out), new PrintWriter(err));
    return new Result(exit, out.toString(), err.toString());
  }

  private static String userSpaceDriver() {
    return GuestRun.backend().equals("vfio") ? "vfio-pci" : "uio_pci_generic";
  }

  @Test
  void anNvmeControllerWithAMountedFilesystemIsRefusedAndKeepsItsDriver() throws Exception {
    Host host = Host.system();
    PciAddress nvme = DevbindCycleTest.only(host, NVME);
    PciDriverBinder binder = new PciDriverBinder(host);
    PciBinding start = PciBinding.of(host.bus().function(nvme));
    Path mountPoint = Files.createDirectories(Path.of("/run/tmp/upcie-mounted"));
    String disk;
    try {
      binder.bind(nvme, "nvme");
      // The kernel scans namespaces after the probe returns: wait for the disks to appear.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() ->
              !disks(host, nvme).isEmpty() && Files.exists(Path.of(disks(host, nvme).getLast())));
      disk = disks(host, nvme).getLast();
      run("mkfs.ext4", "-q", "-F", disk);
      run("modprobe", "ext4"); // a module in Debian's kernels, and the guest loads few
      run("mount", disk, mountPoint.toString());

      Result refused = upcie("devbind", "bind", userSpaceDriver(), nvme.toString());

      assertThat(refused.exit()).as("stderr: %s", refused.err()).isEqualTo(6);
      assertThat(refused.err())
          .startsWith("upcie: refused to bind " + nvme + " to " + userSpaceDriver())
          .contains(disk + " is mounted on " + mountPoint + " [mounted]")
          .contains("--force=mounted");
      assertThat(host.bus().function(nvme).driver()).as("still the kernel's").contains("nvme");
      assertThat(Files.exists(Path.of(disk))).as("the disk is still there").isTrue();
    } finally {
      // Only what was done is undone, so a failure above is the one reported.
      if (Files.readString(Path.of("/proc/mounts")).contains(" " + mountPoint + " ")) {
        run("umount", mountPoint.toString());
      }
      binder.restore(start);
    }
    assertThat(PciBinding.of(host.bus().function(nvme))).isEqualTo(start);
  }

  @Test
  void aMoveIsJournaledAndKeptAcrossCommandsAndRestoreUndoesIt() throws Exception {
    Host host = Host.system();
    PciAddress edu = DevbindCycleTest.only(host, EDU);
    BindingJournal journal = BindingJournal.of(host);
    PciBinding start = PciBinding.of(host.bus().function(edu));
    assertThat(journal.entry(edu)).as("nothing journaled before").isEmpty();
    try {
      Result unbound = upcie("devbind", "unbind", edu.toString());
      assertThat(unbound.exit()).as("stderr: %s", unbound.err()).isZero();
      assertThat(host.bus().function(edu).driver()).isEmpty();
      assertThat(journal.entry(edu)).hasValueSatisfying(e -> assertThat(e.kept()).isTrue());

      List<String> bind =
          new ArrayList<>(List.of("devbind", "bind", userSpaceDriver(), "1234:11e8"));
      if (userSpaceDriver().equals("vfio-pci")) {
        bind.addAll(List.of("--owner", "nobody:nogroup"));
      }
      Result bound = upcie(bind.toArray(String[]::new));
      assertThat(bound.exit()).as("stderr: %s", bound.err()).isZero();
      // The unbind left the override, so nothing but this bind could take the function meanwhile.
      assertThat(bound.out())
          .isEqualTo(
              edu
                  + ": no driver (override "
                  + start.driverOverride().orElseThrow()
                  + ") -> "
                  + userSpaceDriver()
                  + " (override "
                  + userSpaceDriver()
                  + ")\n");
      if (userSpaceDriver().equals("vfio-pci")) {
        Path group =
            Path.of(
                FunctionNodes.of(host.sysfs(), host.bus().function(edu)).stream()
                    .filter(n -> n.kind() == FunctionNode.Kind.VFIO_GROUP)
                    .findFirst()
                    .orElseThrow()
                    .name());
        assertThat(Files.getOwner(group).getName()).isEqualTo("nobody");
        assertThat(bound.err()).contains("memlock");
        Files.setOwner(
            group,
            group.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("root"));
      }
      assertThat(journal.entry(edu).orElseThrow().original())
          .as("the binding from before the first command")
          .isEqualTo(start);

      Result restored = upcie("devbind", "restore", edu.toString(), "--json");
      assertThat(restored.exit()).as("stderr: %s", restored.err()).isZero();
      assertThat(restored.out()).contains("\"schema\": \"upcie.devbind.move/1\"");
    } finally {
      if (journal.entry(edu).isPresent()) {
        new PciDriverBinder(host).restore(journal.entry(edu).get().original(), journal);
      }
    }
    assertThat(PciBinding.of(host.bus().function(edu))).isEqualTo(start);
    assertThat(journal.entry(edu)).isEmpty();
  }

  @Test
  void aDriverThatRefusesTheFunctionLeavesItWhereItWas() {
    Host host = Host.system();
    PciAddress edu = DevbindCycleTest.only(host, EDU);
    PciBinding start = PciBinding.of(host.bus().function(edu));

    // virtio-pci's probe turns away anything not made by Red Hat's virtio vendor id.
    Result r = upcie("devbind", "bind", "virtio-pci", edu.toString());

    assertThat(r.exit()).as("stderr: %s", r.err()).isEqualTo(1);
    assertThat(r.err())
        .startsWith("upcie: binding " + edu + " to virtio-pci failed: after drivers_probe it is")
        .contains("restored " + start);
    assertThat(PciBinding.of(host.bus().function(edu))).isEqualTo(start);
    assertThat(BindingJournal.of(host).entry(edu)).isEmpty();
  }

  private static List<String> disks(Host host, PciAddress address) {
    return FunctionNodes.of(host.sysfs(), host.bus().function(address)).stream()
        .filter(n -> n.kind() == FunctionNode.Kind.BLOCK)
        .map(FunctionNode::name)
        .toList();
  }

  private static void run(String... command) throws Exception {
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(process.waitFor()).as("%s: %s", String.join(" ", command), output).isZero();
  }
}
