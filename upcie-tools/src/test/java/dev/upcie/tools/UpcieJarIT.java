package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged jar, run as users run it: {@code java -jar target/upcie.jar ...}. */
class UpcieJarIT {
  private static final Path JAR = JarRunner.JAR;
  private static final Path JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

  @Test
  void listShowsExactlyTheFunctionsAndDriversTheKernelReports() throws Exception {
    Path devices = Path.of("/sys/bus/pci/devices");
    assumeTrue(Files.isDirectory(devices), "this machine has no /sys/bus/pci/devices");

    CommandResult r = run(List.of(), "devbind", "list", "--json");

    assertThat(r.exit()).isZero();
    assertThat(r.err()).as("no warnings, no noise").isEmpty();
    JsonNode functions = new ObjectMapper().readTree(r.out()).get("functions");
    List<String> listed = new ArrayList<>();
    for (JsonNode f : functions) {
      String address = f.get("address").asText();
      listed.add(address);
      Path link = devices.resolve(address).resolve("driver");
      String kernelDriver =
          Files.isSymbolicLink(link) ? Files.readSymbolicLink(link).getFileName().toString() : null;
      assertThat(f.get("driver").isNull() ? null : f.get("driver").asText())
          .as("driver of %s", address)
          .isEqualTo(kernelDriver);
    }
    try (Stream<Path> entries = Files.list(devices)) {
      assertThat(listed)
          .containsExactlyElementsOf(
              entries.map(p -> p.getFileName().toString()).sorted().toList());
    }
  }

  @Test
  void theFunctionHoldingTheRootFileSystemIsListedInUseAndABindOfItIsRefused() throws Exception {
    String source =
        Files.readAllLines(Path.of("/proc/mounts")).stream()
            .map(line -> line.split(" "))
            .filter(fields -> fields[1].equals("/"))
            .map(fields -> fields[0])
            .reduce((first, last) -> last)
            .orElse("");
    String disk = source.startsWith("/dev/") ? source.substring(5) : "";
    Path link = Path.of("/sys/class/block", disk);
    // This machine kind (and CI's) boots from a virtio disk; elsewhere / may be an overlay.
    if (!Boolean.getBoolean("upcie.ci")) {
      assumeTrue(
          !disk.isEmpty() && Files.isSymbolicLink(link),
          "/ is not on a block device (" + source + ")");
    }
    assertThat(link).as("/ is on a block device (%s)", source).isSymbolicLink();
    java.util.regex.Matcher address =
        java.util.regex.Pattern.compile("/([0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\\.[0-7])/")
            .matcher(Files.readSymbolicLink(link).toString());
    String function = null;
    while (address.find()) {
      function = address.group(1); // the nearest PCI function above the disk
    }
    if (!Boolean.getBoolean("upcie.ci")) {
      assumeTrue(function != null, "/ is on " + source + ", which no PCI function holds");
    }
    assertThat(function).as("the PCI function holding %s", source).isNotNull();

    CommandResult r = run(List.of(), "devbind", "list", "--json", function);

    JsonNode f = new ObjectMapper().readTree(r.out()).get("functions").get(0);
    assertThat(f.get("in_use").asText()).contains(source + " is mounted on /");
    assertThat(f.get("nodes").toString()).contains("\"name\":\"" + source + "\"");

    // A dry run only: were the check ever to let it through, nothing is written.
    CommandResult bind = run(List.of(), "devbind", "bind", "vfio-pci", function, "--dry-run");
    assertThat(bind.exit()).as("refused by a safety check; stderr: %s", bind.err()).isEqualTo(6);
    assertThat(bind.out())
        .contains("# refused: " + function + ": " + source + " is mounted on / [mounted]");
    assertThat(bind.err())
        .startsWith("upcie: refused to bind " + function + " to vfio-pci, and changed nothing: ")
        .contains("(to override, and only then: --force=mounted)");
  }

  @Test
  void theTableHasOneRowPerFunction() throws Exception {
    assumeTrue(Files.isDirectory(Path.of("/sys/bus/pci/devices")), "no /sys/bus/pci/devices");
    CommandResult r = run(List.of(), "devbind", "list");

    try (Stream<Path> entries = Files.list(Path.of("/sys/bus/pci/devices"))) {
      assertThat(r.out().lines()).hasSize(1 + (int) entries.count());
    }
    assertThat(r.err()).isEmpty();
  }

  @Test
  void mistakesGiveOneLineAndNoStackTrace() throws Exception {
    run(List.of(), "devbind", "list", "00:zz.1").assertOneLineError(2, "invalid PCI address");
    run(List.of(), "devbind", "list", "ffff:ff:1f.7").assertOneLineError(3, "no PCI function");
    run(List.of(), "devbind", "list", "--sysfs-root", "/nonexistent")
        .assertOneLineError(2, "no such directory");
    run(List.of(), "nvme", "show-regs", "--device", "nope").assertOneLineError(2, "invalid device");
    // An owner that does not exist is refused before anything moves (a dry run, to be sure).
    run(List.of(), "devbind", "bind", "vfio-pci", "00:02.0", "--owner", "no-such-user", "--dry-run")
        .assertOneLineError(2, "no such user no-such-user on this machine");
  }

  @Test
  void showRegsRunsTheSimulatedControllerWhereNoneIsBound() throws Exception {
    CommandResult r = run(List.of(), "nvme", "show-regs", "--backend", "sim");

    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("vs      0x00010400          ter=0 mnr=4 mjr=1  (1.4.0)");
    assertThat(r.err()).isEmpty();
  }

  @Test
  void perfDrivesTheSimulatedControllerEndToEnd() throws Exception {
    CommandResult r = run(List.of(), "nvme", "perf", "--sim", "--count", "1000", "--json");

    assertThat(r.exit()).as(r.err()).isZero();
    r.assertOneLineErrorOnStderr("upcie: using the simulated QEMU NVMe controller 0000:00:05.0");
    JsonNode perf = new ObjectMapper().readTree(r.out());
    assertThat(perf.get("schema").asText()).isEqualTo("upcie.nvme.perf/1");
    assertThat(perf.get("controller").get("model").asText()).isEqualTo("QEMU NVMe Ctrl");
    assertThat(perf.get("result").get("ios").asLong()).isEqualTo(1000);
    assertThat(perf.get("result").get("errors").asLong()).isZero();
    assertThat(perf.get("result").get("iops").asDouble()).isPositive();
  }

  @Test
  void anUnreadableTreeIsAPermissionErrorForAnOrdinaryUser(@TempDir Path dir) throws Exception {
    Path setpriv = Path.of("/usr/bin/setpriv");
    assumeTrue(
        "root".equals(System.getProperty("user.name")) && Files.isExecutable(setpriv),
        "needs root and setpriv to run the jar as nobody");
    Path devices = Files.createDirectories(dir.resolve("sysfs/bus/pci/devices"));
    Files.setPosixFilePermissions(devices, PosixFilePermissions.fromString("---------"));
    for (Path p = devices.getParent(); !p.equals(dir.getParent()); p = p.getParent()) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Path jar = Files.copy(JAR, dir.resolve("upcie.jar"));
    Files.setPosixFilePermissions(jar, PosixFilePermissions.fromString("rw-r--r--"));

    CommandResult r =
        run(
            List.of(setpriv.toString(), "--reuid=65534", "--regid=65534", "--clear-groups"),
            jar,
            "devbind",
            "list",
            "--sysfs-root",
            dir.resolve("sysfs").toString());

    r.assertOneLineError(4, "EACCES (Permission denied): this user may not read it; run as root");
  }

  private static CommandResult run(List<String> prefix, String... args) throws Exception {
    return JarRunner.run(prefix, JAR, args);
  }

  private static CommandResult run(List<String> prefix, Path jar, String... args) throws Exception {
    return JarRunner.run(prefix, jar, args);
  }
}
