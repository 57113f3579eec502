package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.upcie.host.Host;
import dev.upcie.procfs.Procfs;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsTreeFixture;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each safety check on a tree laid out for it: what it finds, the name that overrides it, and the
 * fix it offers for the case at hand.
 */
class BindPreflightTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:04.0");
  private static final PciAddress NIC = PciAddress.parse("0000:00:02.0");

  @TempDir Path root;

  private Host host(String mounts, String swaps) throws Exception {
    Path sys = Files.createDirectories(root.resolve("sys"));
    new SysfsTreeFixture(sys)
        .function("0000:00:04.0", "0x1b36", "0x0010", "0x010802", "nvme", 4)
        .function("0000:00:02.0", "0x8086", "0x10d3", "0x020000", "e1000e", 2)
        .dir("devices/pci0000:00/0000:00:04.0/nvme/nvme0/nvme0n1")
        .dir("class/block/nvme0n1/nvme0n1p1")
        .dir("class/block/nvme0n1/nvme0n1p2")
        .classDevice("net", "enp0s2", "0000:00:02.0", "net/enp0s2")
        .file("class/net/enp0s2/flags", "0x1003\n");
    Path proc = Files.createDirectories(root.resolve("proc"));
    Files.writeString(proc.resolve("mounts"), mounts);
    Files.writeString(proc.resolve("swaps"), "Filename Type Size Used Priority\n" + swaps);
    return Host.of(Sysfs.of(sys), Procfs.of(proc), Path.of("/dev"));
  }

  @Test
  void aMountedDataPartitionAndSwapAreRefusedEachByItsOwnName() throws Exception {
    Host host = host("/dev/nvme0n1p1 /data ext4 rw 0 0\n", "/dev/nvme0n1p2 partition 1024 0 -2\n");

    assertThat(BindPreflight.check(host, NVME, Optional.of("vfio-pci"), Set.of(NVME)))
        .extracting(BindRefusal::check, BindRefusal::reason, BindRefusal::fix)
        .containsExactly(
            tuple(
                BindCheck.MOUNTED,
                "/dev/nvme0n1p1 is mounted on /data",
                "unmount it first (`umount /data`)"),
            tuple(
                BindCheck.SWAP,
                "/dev/nvme0n1p2 is swap",
                "turn it off first (`swapoff /dev/nvme0n1p2`)"));
  }

  @Test
  void theRootFilesystemIsRefusedWithoutSuggestingToUnmountIt() throws Exception {
    Host host = host("/dev/nvme0n1p1 / ext4 rw 0 0\n", "");

    assertThat(BindPreflight.check(host, NVME, Optional.of("vfio-pci"), Set.of(NVME)))
        .singleElement()
        .satisfies(r -> {
          assertThat(r.check()).isEqualTo(BindCheck.MOUNTED);
          assertThat(r.fix())
              .isEqualTo("it holds the filesystem this machine runs from; leave it to its driver");
        });
  }

  @Test
  void anInterfaceThatIsUpIsRefusedAndOneThatIsDownIsNot() throws Exception {
    Host host = host("", "");

    assertThat(BindPreflight.check(host, NIC, Optional.of("vfio-pci"), Set.of(NIC)))
        .extracting(BindRefusal::check, BindRefusal::reason, BindRefusal::fix)
        .containsExactly(
            tuple(
                BindCheck.NETWORK,
                "network interface enp0s2 is up",
                "take it down first (`ip link set enp0s2 down`)"));

    Files.writeString(root.resolve("sys/class/net/enp0s2/flags"), "0x1002\n");
    assertThat(BindPreflight.check(host, NIC, Optional.of("vfio-pci"), Set.of(NIC))).isEmpty();
  }
}
