package dev.upcie.pci;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.host.Host;
import dev.upcie.procfs.Procfs;
import dev.upcie.sysfs.Sysfs;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A function whose disk the host mounts, swaps on or stacks on is in use; a bare one is not. */
class FunctionUseTest {
  private static final PciAddress NVME = PciAddress.parse("0000:00:05.0");

  private static Host host(Path root, String mounts, String swaps) throws Exception {
    Path sys = Files.createDirectories(root.resolve("sys"));
    Files.createDirectories(sys.resolve("bus/pci/devices/0000:00:05.0/nvme/nvme0/nvme0n1"));
    Files.createDirectories(sys.resolve("class/block/nvme0n1/nvme0n1p1"));
    Files.createDirectories(sys.resolve("class/block/nvme0n1/holders"));
    Files.createDirectories(sys.resolve("class/block/nvme0n1p1/holders"));
    Path proc = Files.createDirectories(root.resolve("proc"));
    Files.writeString(proc.resolve("mounts"), mounts);
    Files.writeString(proc.resolve("swaps"), "Filename Type Size Used Priority\n" + swaps);
    return Host.of(Sysfs.of(sys), Procfs.of(proc), Path.of("/dev"));
  }

  @Test
  void aMountedPartitionIsAUse(@TempDir Path root) throws Exception {
    Host host = host(root, "/dev/nvme0n1p1 /data ext4 rw 0 0\n", "");

    assertThat(FunctionUse.of(host, NVME)).hasValue("/dev/nvme0n1p1 is mounted on /data");
  }

  @Test
  void swapAndHoldersAreUsesToo(@TempDir Path root) throws Exception {
    Host host = host(root, "", "/dev/nvme0n1 partition 1024 0 -2\n");
    Files.createDirectories(root.resolve("sys/class/block/nvme0n1p1/holders/dm-0"));

    assertThat(FunctionUse.of(host, NVME))
        .hasValue("/dev/nvme0n1 is swap, /dev/nvme0n1p1 is held by dm-0");
  }

  @Test
  void aFilesystemMountedOnLvmAboveAPartitionIsFoundThroughTheHolders(@TempDir Path root)
      throws Exception {
    // nvme0n1p1 is an LVM physical volume; dm-0 (vg-data) is built on it and mounted by its name.
    Host host = host(root, "/dev/mapper/vg-data /srv xfs rw 0 0\n", "");
    Path sys = root.resolve("sys");
    Files.createDirectories(sys.resolve("class/block/nvme0n1p1/holders/dm-0"));
    Files.createDirectories(sys.resolve("class/block/dm-0/dm"));
    Files.createDirectories(sys.resolve("class/block/dm-0/holders"));
    Files.writeString(sys.resolve("class/block/dm-0/dm/name"), "vg-data\n");

    assertThat(FunctionUse.uses(host, NVME))
        .containsExactly(
            new FunctionUse.Use(
                FunctionUse.Kind.MOUNTED,
                "/dev/mapper/vg-data (dm-0 on /dev/nvme0n1p1) is mounted on /srv",
                "/srv"));
  }

  @Test
  void underNvmeMultipathTheMountedDiskIsTheHeadOfThePath(@TempDir Path root) throws Exception {
    // Debian's kernels have native multipath: the controller holds the hidden path nvme0c0n1,
    // and what /dev has (and what is mounted) is the subsystem's head, nvme0n1.
    Host host = host(root, "/dev/nvme0n1p1 /data ext4 rw 0 0\n", "");
    Files.delete(root.resolve("sys/bus/pci/devices/0000:00:05.0/nvme/nvme0/nvme0n1"));
    Files.createDirectories(root.resolve("sys/bus/pci/devices/0000:00:05.0/nvme/nvme0/nvme0c0n1"));

    assertThat(FunctionUse.of(host, NVME)).hasValue("/dev/nvme0n1p1 is mounted on /data");
  }

  @Test
  void aVirtioRootDiskBelowTheFunctionIsInUse(@TempDir Path root) throws Exception {
    // This machine's own root disk: class/block/vda -> .../0000:00:02.0/virtio1/block/vda.
    Host host = host(root, "/dev/vda / ext4 rw 0 0\n", "");
    Path sys = root.resolve("sys");
    Files.createDirectories(sys.resolve("devices/pci0000:00/0000:00:02.0/virtio1/block/vda"));
    Files.createSymbolicLink(
        sys.resolve("class/block/vda"),
        Path.of("../../devices/pci0000:00/0000:00:02.0/virtio1/block/vda"));

    assertThat(FunctionUse.of(host, PciAddress.parse("00:02.0")))
        .hasValue("/dev/vda is mounted on /");
  }

  @Test
  void aDiskNothingUsesIsFree(@TempDir Path root) throws Exception {
    Host host = host(root, "/dev/sda1 / ext4 rw 0 0\n", "");

    assertThat(FunctionUse.of(host, NVME)).isEmpty();
    assertThat(FunctionUse.of(host, PciAddress.parse("00:06.0"))).as("no disk at all").isEmpty();
  }
}
