package dev.upcie.it.qemu;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * Boots a QEMU guest that runs a shell script on the host's own root file system.
 *
 * <p>The recipe (measured on this project's machines; see {@code docs/qemu.md}): TCG, q35 with
 * intel-iommu, a Debian kernel, a busybox initramfs that loads the 9p modules, mounts the host root
 * read-only over virtio-9p and {@code chroot}s into it, so the guest runs the host's JDK and the
 * freshly built classes. A second, writable 9p share is mounted at the same path as {@link
 * #results()} on the host, for reports.
 *
 * <p>A boot that hangs is killed at the timeout, and the failure carries the console log.
 */
final class QemuGuest {
  private static final List<String> NINE_P_MODULES = List.of("virtio_pci", "9pnet_virtio", "9p");

  private final QemuEnvironment environment;
  private final Path runDirectory;
  private final Path results;
  private final List<String> deviceArguments = new ArrayList<>();
  private final List<String> kernelArguments = new ArrayList<>();
  private long[] numaNodes = {2048};
  private boolean iommu = true;
  private Duration timeout = Duration.ofMinutes(7);

  /** A guest whose files live in {@code runDirectory} (emptied first); not started yet. */
  QemuGuest(QemuEnvironment environment, Path runDirectory) throws IOException {
    this.environment = Objects.requireNonNull(environment);
    this.runDirectory = runDirectory.toAbsolutePath();
    deleteRecursively(this.runDirectory);
    this.results = Files.createDirectories(this.runDirectory.resolve("results"));
  }

  /** The release of the kernel the guest boots, as {@code uname -r} prints it there. */
  String kernelRelease() {
    return environment.release();
  }

  /** The writable directory the guest sees at the same path. */
  Path results() {
    return results;
  }

  /** Whether the guest gets intel-iommu (for VFIO) or none (for UIO). */
  QemuGuest iommu(boolean enabled) {
    this.iommu = enabled;
    return this;
  }

  /** Adds arguments to the guest kernel's command line, such as {@code hugepages=64}. */
  QemuGuest kernelArguments(String... arguments) {
    kernelArguments.addAll(List.of(arguments));
    return this;
  }

  /**
   * Gives the guest NUMA nodes of these sizes in MiB, in physical address order (node 0 first, from
   * address 0); the guest's one CPU is on node 0, the others hold memory only. The guest's memory
   * is their sum. Without this, one node of 2 GiB.
   */
  QemuGuest numaNodes(long... mebibytes) {
    this.numaNodes = mebibytes.clone();
    return this;
  }

  /** How long the whole run may take before the guest is killed. */
  QemuGuest timeout(Duration timeout) {
    this.timeout = timeout;
    return this;
  }

  /** A namespace of QEMU's NVMe controller: its identifier, size and logical block size. */
  record NvmeNamespace(int nsid, long bytes, int blockSize) {}

  /**
   * Adds QEMU's NVMe controller with maximum data transfer size {@code mdts} and these namespaces,
   * each in a fresh sparse raw image. Deallocation reaches the images ({@code discard=unmap}), so
   * deallocated blocks read as zeros as Identify Namespace's DLFEAT promises.
   */
  QemuGuest nvme(String serial, int mdts, List<NvmeNamespace> namespaces) throws IOException {
    deviceArguments.addAll(List.of("-device", "nvme,id=nvme0,serial=" + serial + ",mdts=" + mdts));
    for (NvmeNamespace ns : namespaces) {
      Path image = runDirectory.resolve("nvme-" + serial + "-ns" + ns.nsid() + ".img");
      try (RandomAccessFile file = new RandomAccessFile(image.toFile(), "rw")) {
        file.setLength(0);
        file.setLength(ns.bytes());
      }
      String drive = "nvm-" + serial + "-" + ns.nsid();
      deviceArguments.addAll(
          List.of(
              "-drive",
              "file=" + image + ",if=none,id=" + drive + ",format=raw,discard=unmap",
              "-device",
              "nvme-ns,bus=nvme0,drive="
                  + drive
                  + ",nsid="
                  + ns.nsid()
                  + ",logical_block_size="
                  + ns.blockSize()
                  + ",physical_block_size="
                  + ns.blockSize()));
    }
    return this;
  }

  /** Adds QEMU's {@code edu} teaching device. */
  QemuGuest edu() {
    deviceArguments.addAll(List.of("-device", "edu"));
    return this;
  }

  /**
   * Boots the guest, runs {@code script} with {@code /bin/sh} in the chroot, and powers off.
   *
   * @return the script's exit status and the console log
   * @throws AssertionError if the guest does not finish in time or never reports a status
   */
  Run run(String script) throws IOException, InterruptedException {
    // A second boot of the same guest must not read the first one's status.
    Files.deleteIfExists(results.resolve("status"));
    Path scriptFile = runDirectory.resolve("guest.sh");
    Files.writeString(scriptFile, script, StandardCharsets.UTF_8);
    Path initramfs = runDirectory.resolve("initramfs.cpio");
    writeInitramfs(initramfs, scriptFile);
    Path console = runDirectory.resolve("console.log");

    List<String> command = new ArrayList<>();
    command.add(environment.qemu().toString());
    command.addAll(
        List.of(
            "-machine",
            iommu ? "q35,kernel-irqchip=split" : "q35",
            "-accel",
            System.getProperty("upcie.qemu.accel", "tcg"),
            "-cpu",
            "max",
            // One vCPU: with several, TCG can translate an instruction another vCPU is rewriting
            // half-way through, and a guest JVM then runs a JIT entry point half-patched (seen as a
            // SIGSEGV in C1 code during the guest benchmarks).
            "-smp",
            "1",
            "-m",
            Long.toString(java.util.Arrays.stream(numaNodes).sum()),
            "-nographic",
            "-no-reboot",
            "-kernel",
            environment.kernel().toString(),
            "-initrd",
            initramfs.toString(),
            "-append",
            "console=ttyS0 panic=-1 "
                + (iommu ? "intel_iommu=on" : "intel_iommu=off")
                + (kernelArguments.isEmpty() ? "" : " " + String.join(" ", kernelArguments)),
            "-virtfs",
            "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap",
            "-virtfs",
            "local,path=" + results + ",mount_tag=results,security_model=none,multidevs=remap"));
    if (numaNodes.length > 1) {
      for (int node = 0; node < numaNodes.length; node++) {
        command.addAll(
            List.of(
                "-object",
                "memory-backend-ram,id=mem" + node + ",size=" + numaNodes[node] + "M",
                "-numa",
                "node,nodeid=" + node + (node == 0 ? ",cpus=0" : "") + ",memdev=mem" + node));
      }
    }
    if (iommu) {
      command.addAll(List.of("-device", "intel-iommu,intremap=on,caching-mode=on"));
    }
    command.addAll(deviceArguments);
    // -Dupcie.qemu.trace=pci_nvme_err* (QEMU's trace patterns, comma-separated) writes those
    // events to qemu-trace.log: what QEMU's device did, for a divergence the tests alone can't
    // tell.
    String trace = System.getProperty("upcie.qemu.trace", "");
    if (!trace.isBlank()) {
      for (String pattern : trace.split(",")) {
        command.addAll(List.of("-trace", "enable=" + pattern.strip()));
      }
      command.addAll(List.of("-D", runDirectory.resolve("qemu-trace.log").toString()));
    }
    Files.writeString(runDirectory.resolve("qemu-command"), String.join(" ", command) + "\n");

    long start = System.nanoTime();
    Process qemu =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(console.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
            .start();
    boolean finished = qemu.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!finished) {
      qemu.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
      throw new AssertionError(
          "the QEMU guest did not finish within "
              + timeout.toSeconds()
              + " s and was killed; console ("
              + console
              + "):\n"
              + tail(console, 60));
    }
    Duration wall = Duration.ofNanos(System.nanoTime() - start);
    Path status = results.resolve("status");
    if (!Files.exists(status)) {
      throw new AssertionError(
          "the QEMU guest exited (status "
              + qemu.exitValue()
              + ") without running the script to the end; console ("
              + console
              + "):\n"
              + tail(console, 60));
    }
    return new Run(
        Integer.parseInt(Files.readString(status).strip()), Files.readString(console), wall);
  }

  /** What a guest run produced. */
  record Run(int status, String console, Duration wallTime) {
    /** The last {@code lines} lines of the console, for failure messages. */
    String tail(int lines) {
      List<String> all = console.lines().toList();
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    }
  }

  private void writeInitramfs(Path target, Path script) throws IOException {
    KernelModules modules = KernelModules.read(environment.modules());
    List<String> load = modules.loadOrder(NINE_P_MODULES);
    StringBuilder init = new StringBuilder();
    init.append(
        """
        #!/bin/busybox sh
        /bin/busybox --install -s /bin
        export PATH=/bin
        fail() { echo "upcie-guest: $*"; poweroff -f; }
        mount -t proc proc /proc
        mount -t sysfs sysfs /sys
        mount -t devtmpfs devtmpfs /dev
        # Loopback: JMH talks to its forked JVMs over it.
        ifconfig lo 127.0.0.1 up || fail cannot bring up the loopback interface
        """);
    for (String module : load) {
      String file = module.substring(module.lastIndexOf('/') + 1);
      if (file.endsWith(".xz")) {
        // Debian's 6.12 compresses its modules; busybox's xzcat undoes it, not every insmod.
        String plain = file.substring(0, file.length() - ".xz".length());
        init.append(
            "xzcat /lib/modules/%1$s > /lib/modules/%2$s || fail xzcat %1$s\n"
                .formatted(file, plain));
        file = plain;
      }
      init.append("insmod /lib/modules/").append(file).append(" || fail insmod ").append(file);
      init.append('\n');
    }
    String nineP = "-t 9p -o trans=virtio,version=9p2000.L,msize=512000";
    init.append(
"""
        mount %1$s,ro,cache=loose hostroot /newroot || fail cannot mount the host root
        mount %1$s results /newroot%2$s || fail cannot mount the results share
        mount -t proc proc /newroot/proc
        mount -t sysfs sysfs /newroot/sys
        mount -t devtmpfs devtmpfs /newroot/dev
        mount -t tmpfs tmpfs /newroot/run
%4$s        echo "upcie-guest: running %3$s"
        chroot /newroot /bin/sh %3$s
        status=$?
        echo "upcie-guest-status=$status"
        echo $status > /newroot%2$s/status
        sync
        poweroff -f
"""
            .formatted(nineP, results, script, modulesMount()));

    try (OutputStream out = Files.newOutputStream(target);
        Cpio cpio = new Cpio(out)) {
      for (String dir : List.of("bin", "dev", "proc", "sys", "newroot", "lib", "lib/modules")) {
        cpio.directory(dir);
      }
      cpio.characterDevice("dev/console", 5, 1);
      cpio.file("bin/busybox", 0755, environment.busybox());
      cpio.file("init", 0755, init.toString().getBytes(StandardCharsets.UTF_8));
      for (String module : load) {
        cpio.file(
            "lib/modules/" + module.substring(module.lastIndexOf('/') + 1),
            0644,
            modules.resolve(module));
      }
    }
  }

  /**
   * Where the kernel's modules are not the host root's (a kernel unpacked in a cache, not
   * installed), the init mounts them where the guest's {@code modprobe} looks, over a tmpfs that
   * hides the host's own modules; otherwise nothing.
   */
  private String modulesMount() throws IOException {
    if (!environment.modulesOutsideHostRoot()) {
      return "";
    }
    // Debian's /lib is a link to usr/lib: mount on the real directory.
    Path target = Path.of("/newroot" + Path.of("/lib/modules").toRealPath());
    return """
    mount -t tmpfs tmpfs %1$s || fail cannot mount a tmpfs on %1$s
    mkdir %1$s/%2$s
    mount -o bind /newroot%3$s %1$s/%2$s || fail cannot mount the modules of %3$s
    """
        .formatted(target, environment.release(), environment.modules().toRealPath());
  }

  private static String tail(Path file, int lines) throws IOException {
    if (!Files.exists(file)) {
      return "(no console output)";
    }
    List<String> all = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
    return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
