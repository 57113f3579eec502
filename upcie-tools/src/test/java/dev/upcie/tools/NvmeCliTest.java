package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.nvme.NvmeModel;
import dev.upcie.sim.sysfs.SimFunction;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code upcie nvme}'s driver commands, run in process on the simulated QEMU controller: chosen
 * with {@code --sim}, by falling back where nothing is bound, or on a simulated machine given with
 * {@code --sysfs-root}. Each command builds its own simulated machine, so data written by one
 * command is not there for the next; {@code NvmeCommandPiecesTest} checks round trips.
 */
class NvmeCliTest {
  private static final Path RECORDING =
      Path.of("../upcie-sim/src/test/resources/sysfs/qemu-q35-iommu-vfio.umockdev");
  private static final String SIM_NOTE =
      "upcie: using the simulated QEMU NVMe controller 0000:00:05.0 (--sim)";

  @TempDir Path dir;
  private final ObjectMapper mapper = new ObjectMapper();

  // ---- Device selection ----

  @Test
  void withNothingBoundTheSimulatedControllerStandsInAndStderrSaysSo() {
    Path sysfs = export(SimMachine.qemuQ35());

    CommandResult r = upcie("nvme", "id-ctrl", "--sysfs-root", sysfs.toString());

    assertThat(r.exit()).isZero();
    r.assertOneLineErrorOnStderr(
        "upcie: no NVMe controller is bound to vfio-pci or uio_pci_generic here; using the"
            + " simulated QEMU NVMe controller 0000:00:05.0 (give an address to use a real one)");
    assertThat(r.out()).startsWith("NVME Identify Controller:\n");
  }

  @Test
  void aControllerOnTheKernelsDriverIsRefusedWithTheWayToHandItOver() {
    Path sysfs = export(SimMachine.qemuQ35());

    CommandResult r = upcie("nvme", "id-ctrl", "--sysfs-root", sysfs.toString(), "00:05.0");

    Path device = sysfs.resolve("bus/pci/devices/0000:00:05.0");
    r.assertOneLineError(1, "0000:00:05.0 is bound to nvme, which owns it");
    assertThat(r.err())
        .contains("user space drives only functions bound to vfio-pci or uio_pci_generic")
        .contains(
            "echo vfio-pci > "
                + device
                + "/driver_override && echo 0000:00:05.0 > "
                + device
                + "/driver/unbind && echo 0000:00:05.0 > "
                + sysfs.resolve("bus/pci/drivers_probe"));
  }

  @Test
  void addressesThatNameNothingUsableAreOneLineErrors() {
    Path sysfs = export(SimMachine.qemuQ35());

    upcie("nvme", "id-ctrl", "--sysfs-root", sysfs.toString(), "00:09.0")
        .assertOneLineError(3, "no PCI function 0000:00:09.0");
    upcie("nvme", "id-ctrl", "--sysfs-root", sysfs.toString(), "00:0x.0")
        .assertOneLineError(2, "invalid PCI address \"00:0x.0\"");
    upcie("nvme", "smart-log", "--sysfs-root", sysfs.toString(), "0000:00:02.0")
        .assertOneLineError(2, "0000:00:02.0 is not an NVMe controller");
    upcie("nvme", "id-ctrl", "--sim", "00:06.0")
        .assertOneLineError(2, "0000:00:06.0 is not an NVMe controller");
  }

  @Test
  void severalBoundControllersMustBeNamed() {
    SimMachine machine =
        SimMachine.qemuQ35Builder("vfio-pci", null)
            .device(
                SimFunction.builder("0000:00:07.0")
                    .iommuGroup(8)
                    .driver("uio_pci_generic")
                    .driverOverride("uio_pci_generic"),
                new NvmeModel())
            .build();

    upcie("nvme", "id-ctrl", "--sysfs-root", export(machine).toString())
        .assertOneLineError(
            2,
            "2 NVMe controllers are bound to vfio-pci or uio_pci_generic (0000:00:05.0 on"
                + " vfio-pci, 0000:00:07.0 on uio_pci_generic); name one");
  }

  @Test
  void aSimulatedMachineIsUsedAsGivenAndStderrSaysItIsSimulated() {
    CommandResult r =
        upcie("nvme", "id-ctrl", "--sysfs-root", RECORDING.toString(), "0000:00:05.0", "--json");

    assertThat(r.exit()).isZero();
    r.assertOneLineErrorOnStderr("upcie: using the simulated QEMU NVMe controller 0000:00:05.0");
  }

  // ---- id-ctrl, id-ns ----

  @Test
  void idCtrlPrintsAsNvmeCliDoes() {
    CommandResult r = upcie("nvme", "id-ctrl", "--sim");

    assertThat(r.exit()).isZero();
    assertThat(r.err()).isEqualTo(SIM_NOTE + "\n");
    assertThat(r.out())
        .startsWith("NVME Identify Controller:\nvid       : 0x1b36\nssvid     : 0x1af4\n")
        .contains("sn        : upcie-sim-0001      \n")
        .contains("mn        : QEMU NVMe Ctrl" + " ".repeat(26) + "\n")
        .contains("ieee      : 525400\n")
        .contains("cmic      : 0\n")
        .contains("mdts      : 7\n")
        .contains("ver       : 0x10400\n")
        .contains("sqes      : 0x66\ncqes      : 0x44\n")
        .contains("nn        : 256\n")
        .contains("tnvmcap   : 0\n")
        .endsWith("subnqn    : nqn.2019-08.org.qemu:upcie-sim-0001\n");
  }

  @Test
  void idCtrlJsonHasNvmeClisKeysAndNumbers() throws Exception {
    CommandResult r = upcie("nvme", "id-ctrl", "--sim", "--json");

    JsonNode id = mapper.readTree(r.out());
    assertThat(id.get("vid").asInt()).isEqualTo(0x1b36);
    assertThat(id.get("sn").asText()).as("padded, as nvme-cli").isEqualTo("upcie-sim-0001      ");
    assertThat(id.get("mn").asText().strip()).isEqualTo("QEMU NVMe Ctrl");
    assertThat(id.get("mdts").isInt()).isTrue();
    assertThat(id.get("mdts").asInt()).isEqualTo(7);
    assertThat(id.get("ver").asLong()).isEqualTo(0x10400);
    assertThat(id.get("sqes").asInt()).isEqualTo(0x66);
    assertThat(id.get("tnvmcap").isTextual()).as("128 bits, a string as nvme-cli 2.3").isTrue();
    assertThat(id.get("subnqn").asText()).isEqualTo("nqn.2019-08.org.qemu:upcie-sim-0001");
    assertThat(id.fieldNames())
        .toIterable()
        .startsWith("vid", "ssvid", "sn", "mn", "fr", "rab", "ieee", "cmic", "mdts", "cntlid");
  }

  @Test
  void idNsShowsBothNamespacesFormats() throws Exception {
    CommandResult one = upcie("nvme", "id-ns", "--sim");
    CommandResult two = upcie("nvme", "id-ns", "--sim", "-n", "2");

    assertThat(one.exit()).isZero();
    assertThat(one.out())
        .startsWith("NVME Identify Namespace 1:\nnsze    : 0x20000\nncap    : 0x20000\n")
        .contains("nlbaf   : 7\n")
        .contains("nsattr\t: 0\n")
        .contains("lbaf  0 : ms:0   lbads:9  rp:0 (in use)\n")
        .contains("lbaf  1 : ms:8   lbads:9  rp:0 \n");
    assertThat(two.out())
        .startsWith("NVME Identify Namespace 2:\nnsze    : 0x4000\n")
        .contains("lbaf  4 : ms:0   lbads:12 rp:0 (in use)\n");

    JsonNode ns1 = mapper.readTree(upcie("nvme", "id-ns", "--sim", "--json").out());
    JsonNode ns2 = mapper.readTree(upcie("nvme", "id-ns", "--sim", "-n", "2", "--json").out());
    assertThat(ns1.get("nsze").asLong()).isEqualTo(131072);
    assertThat(ns1.get("lbafs").get(ns1.get("flbas").asInt() & 0xf).get("ds").asInt()).isEqualTo(9);
    assertThat(ns2.get("nsze").asLong()).isEqualTo(16384);
    assertThat(ns2.get("lbafs").get(ns2.get("flbas").asInt() & 0xf).get("ds").asInt())
        .isEqualTo(12);
    assertThat(ns2.get("lbafs")).hasSize(ns2.get("nlbaf").asInt() + 1);
    assertThat(ns2.get("lbafs").get(0).fieldNames()).toIterable().containsExactly("ms", "ds", "rp");
  }

  @Test
  void idNsOfANamespaceThatIsNotThereNamesTheOnesThatAre() {
    CommandResult r = upcie("nvme", "id-ns", "--sim", "-n", "3");

    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines())
        .containsExactly(
            SIM_NOTE,
            "upcie: namespace 3 is not active on 0000:00:05.0 (sim); active namespaces: [1, 2]");
  }

  // ---- smart-log, get-feature ----

  @Test
  void smartLogPrintsAsNvmeCliDoes() throws Exception {
    CommandResult r = upcie("nvme", "smart-log", "--sim");

    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .startsWith(
            "Smart Log for NVME device:0000:00:05.0 namespace-id:ffffffff\n"
                + "critical_warning\t\t\t: 0\n"
                + "temperature\t\t\t\t: 50°C (323 Kelvin)\n")
        .contains("Data Units Read\t\t\t\t: 0 (0.00 B)\n")
        .contains("host_write_commands\t\t\t: 0\n")
        .contains("Critical Composite Temperature Time\t: 0\n");

    JsonNode log = mapper.readTree(upcie("nvme", "smart-log", "--sim", "--json").out());
    assertThat(log.get("critical_warning").asInt()).isZero();
    assertThat(log.get("temperature").asInt()).isEqualTo(323);
    assertThat(log.get("host_read_commands").asText()).isEqualTo("0");
    assertThat(log.has("warning_temp_time")).isTrue();
  }

  @Test
  void getFeaturePrintsQemusNumberOfQueues() throws Exception {
    CommandResult r = upcie("nvme", "get-feature", "--sim", "-f", "7");

    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .isEqualTo("get-feature:0x07 (Number of Queues), Current value:0x003f003f\n");

    JsonNode json =
        mapper.readTree(upcie("nvme", "get-feature", "--sim", "-f", "0x7", "--json").out());
    assertThat(json.get("schema").asText()).isEqualTo("upcie.nvme.get-feature/1");
    assertThat(json.get("fid").asInt()).isEqualTo(7);
    assertThat(json.get("sel").asInt()).isZero();
    assertThat(json.get("value").asLong()).as("64 queue pairs, 0-based").isEqualTo(0x3f003f);

    assertThat(upcie("nvme", "get-feature", "--sim", "-f", "4", "--sel", "3").out())
        .isEqualTo(
            "get-feature:0x04 (Temperature Threshold), Supported capabilities"
                + " value:0x00000004\n  Feature is changeable\n");
  }

  @Test
  void getFeatureRefusesWhatItCannotReadAndReportsTheControllersStatus() {
    // Timestamp returns a data structure too: the driver gives it a buffer, Dword 0 is printed.
    assertThat(upcie("nvme", "get-feature", "--sim", "-f", "0x0e").out())
        .startsWith("get-feature:0x0e (Timestamp), Current value:");
    upcie("nvme", "get-feature", "--sim", "-f", "7", "--sel", "4")
        .assertOneLineError(2, "--sel 4: 0 (current), 1 (default), 2 (saved) or 3");
    upcie("nvme", "get-feature", "--sim").assertOneLineError(2, "Missing required option");

    CommandResult r = upcie("nvme", "get-feature", "--sim", "-f", "5", "-n", "3");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines())
        .containsExactly(
            SIM_NOTE,
            "upcie: Get Features (nsid 3) on queue 0 failed: Invalid Field in Command (sct 0x0,"
                + " sc 0x02), do not retry");
  }

  // ---- read, write ----

  @Test
  void readWritesTheBlocksToTheFile() throws Exception {
    Path file = dir.resolve("read.bin");

    CommandResult r =
        upcie("nvme", "read", "--sim", "-s", "8", "-c", "7", "-z", "4096", "-d", file.toString());

    assertThat(r.exit()).isZero();
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines()).containsExactly(SIM_NOTE, "read: Success");
    assertThat(Files.readAllBytes(file)).as("a fresh namespace reads zeroes").containsOnly(0);
    assertThat(Files.size(file)).isEqualTo(4096);

    CommandResult ns2 = upcie("nvme", "read", "--sim", "-n", "2", "-d", file.toString());
    assertThat(ns2.exit()).isZero();
    assertThat(Files.size(file)).as("-c 0: one block of 4 KiB").isEqualTo(4096);
  }

  @Test
  void writeSendsTheFilesBlocks() throws Exception {
    Path file = Files.write(dir.resolve("write.bin"), new byte[1024]);

    CommandResult r = upcie("nvme", "write", "--sim", "-c", "1", "-d", file.toString());

    assertThat(r.exit()).isZero();
    assertThat(r.err().lines()).containsExactly(SIM_NOTE, "write: Success");
  }

  @Test
  void badTransfersAreRefusedBeforeAnyIo() throws Exception {
    Path out = dir.resolve("out.bin");
    Path in = Files.write(dir.resolve("in.bin"), new byte[512]);

    CommandResult outside =
        upcie("nvme", "read", "--sim", "-s", "131071", "-c", "1", "-d", out.toString());
    assertThat(outside.exit()).isEqualTo(2);
    assertThat(outside.err().lines())
        .containsExactly(
            SIM_NOTE,
            "upcie: blocks 131071 to 131072 are outside namespace 1 (blocks 0 to 131071)");
    assertThat(out).as("nothing written for a failed read").doesNotExist();

    assertThat(upcie("nvme", "read", "--sim", "-c", "7", "-z", "1000").err())
        .contains(
            "upcie: --data-size 1000 does not match --block-count 7 (8 blocks of 512 bytes = 4096"
                + " bytes); give -z 4096 or leave it out");
    assertThat(upcie("nvme", "write", "--sim", "-c", "1", "-d", in.toString()).err())
        .contains("holds 512 bytes; writing 1024 bytes needs at least as many");
    upcie("nvme", "write", "--sim", "-d", dir.resolve("missing.bin").toString())
        .assertOneLineError(2, "missing.bin: no such file");
    upcie("nvme", "read", "--sim", "-c", "65536")
        .assertOneLineError(2, "--block-count 65536: at most 65535 (it is 0-based");
    upcie("nvme", "read", "--sim", "-d", dir.resolve("no/such/dir").toString())
        .assertOneLineError(2, "no such directory");
    upcie("nvme", "write", "--sim", "-s", "zz", "-d", in.toString())
        .assertOneLineError(2, "invalid number \"zz\"");
  }

  // ---- perf ----

  @Test
  void perfMeasuresAndReportsJson() throws Exception {
    CommandResult r = upcie("nvme", "perf", "--sim", "--count", "2000", "--qd", "8", "--json");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).isEqualTo(SIM_NOTE + "\n");
    JsonNode perf = mapper.readTree(r.out());
    assertThat(perf.get("schema").asText()).isEqualTo("upcie.nvme.perf/1");
    assertThat(perf.get("device").get("simulated").asBoolean()).isTrue();
    assertThat(perf.get("controller").get("serial").asText()).isEqualTo("upcie-sim-0001");
    assertThat(perf.get("namespace").get("block_size").asInt()).isEqualTo(512);
    assertThat(perf.get("job").get("rw").asText()).isEqualTo("randread");
    assertThat(perf.get("job").get("count_limit").asLong()).isEqualTo(2000);
    assertThat(perf.get("job").get("time_limit_ms").isNull()).isTrue();
    JsonNode result = perf.get("result");
    assertThat(result.get("ios").asLong()).isEqualTo(2000);
    assertThat(result.get("reads").asLong()).isEqualTo(2000);
    assertThat(result.get("errors").asLong()).isZero();
    assertThat(result.get("bytes").asLong()).isEqualTo(2000 * 4096L);
    assertThat(result.get("iops").asDouble()).isPositive();
    assertThat(result.get("bandwidth_mib_s").asDouble()).isPositive();
    JsonNode latency = result.get("latency_us");
    List<Double> ordered =
        List.of("min", "p50", "p90", "p99", "p99_9", "max").stream()
            .map(k -> latency.get(k).asDouble())
            .toList();
    assertThat(ordered).isSorted();
    assertThat(latency.get("min").asDouble()).isPositive();
    assertThat(latency.get("mean").asDouble())
        .isBetween(latency.get("min").asDouble(), latency.get("max").asDouble());
    assertThat(result.get("verify").isNull()).isTrue();
    assertThat(perf.get("job").get("ramp_ms").asLong()).as("no ramp unless asked").isZero();
  }

  /** A ramp runs the load unmeasured first: the counted I/Os are the measured run's alone. */
  @Test
  void perfRampsUpBeforeMeasuring() throws Exception {
    CommandResult r =
        upcie("nvme", "perf", "--sim", "--ramp", "300ms", "--count", "500", "--qd", "4", "--json");

    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode perf = mapper.readTree(r.out());
    assertThat(perf.get("job").get("ramp_ms").asLong()).isEqualTo(300);
    assertThat(perf.get("result").get("ios").asLong()).isEqualTo(500);
    upcie("nvme", "perf", "--sim", "--ramp", "soon")
        .assertOneLineError(2, "invalid --ramp \"soon\"");
  }

  @Test
  void perfVerifyChecksEveryBlockRead() throws Exception {
    CommandResult r =
        upcie(
            "nvme",
            "perf",
            "--sim",
            "--rw",
            "randrw",
            "--count",
            "2000",
            "--qd",
            "8",
            "--size",
            "1m",
            "--verify",
            "--json");

    assertThat(r.exit()).as(r.err()).isZero();
    JsonNode result = mapper.readTree(r.out()).get("result");
    assertThat(result.get("writes").asLong()).isPositive();
    assertThat(result.get("verify").get("mismatches").asLong()).isZero();
    assertThat(result.get("verify").get("blocks_checked").asLong())
        .as("8 blocks of 512 bytes per 4 KiB read")
        .isEqualTo(result.get("reads").asLong() * 8);
    assertThat(result.get("verify").get("first_bad_lba").isNull()).isTrue();
  }

  @Test
  void perfTextShowsBringUpIdentifyAndTheResult() {
    CommandResult r =
        upcie("nvme", "perf", "--sim", "-n", "2", "--rw", "write", "--count", "300", "--qd", "4");

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out())
        .contains(
            "controller  0000:00:05.0 (sim): QEMU NVMe Ctrl, serial upcie-sim-0001, firmware ")
        .contains("namespace   2: 16384 blocks of 4096 bytes (64 MiB)\n")
        .contains(
            "job         write, 4096-byte I/Os, queue depth 4, 300 I/Os over the first 64 MiB,"
                + " pattern random, polled\n")
        .contains("ios         300 (0 reads, 300 writes), 0 errors")
        .containsPattern("latency us  min [0-9.]+  mean [0-9.]+  p50 [0-9.]+  p90 [0-9.]+  p99");
  }

  @Test
  void perfRefusesAJobTheControllerCannotRun() {
    upcie("nvme", "perf", "--sim", "--time", "1s", "--count", "5")
        .assertOneLineError(2, "--time and --count both limit the run; give one");
    upcie("nvme", "perf", "--sim", "--verify", "--pattern", "0xa5")
        .assertOneLineError(2, "takes no --pattern");
    upcie("nvme", "perf", "--sim", "--pattern", "0x1ff")
        .assertOneLineError(2, "invalid --pattern \"0x1ff\"");
    assertThat(upcie("nvme", "perf", "--sim", "--bs", "1000").err())
        .contains("upcie: --bs 1000: I/Os are whole blocks of namespace 1, 512 bytes each");
    assertThat(upcie("nvme", "perf", "--sim", "--bs", "1m").err())
        .contains("one I/O moves at most 524288 bytes on this controller (MDTS)");
    assertThat(upcie("nvme", "perf", "--sim", "--qd", "4096").err())
        .contains("--qd 4096: this controller keeps at most 2047 commands in flight");
    assertThat(upcie("nvme", "perf", "--sim", "--size", "1g").exit()).isEqualTo(2);
  }

  // ---- list ----

  @Test
  void listIdentifiesTheControllersOfASimulatedMachine() throws Exception {
    CommandResult r = upcie("nvme", "list", "--sysfs-root", RECORDING.toString());

    assertThat(r.exit()).isZero();
    assertThat(r.out().lines())
        .hasSize(4)
        .first()
        .asString()
        .matches("Device +Driver +SN +Model +Namespace +Usage +Format +FW Rev");
    assertThat(r.out())
        .containsPattern(
            "0000:00:05.0 vfio-pci \\(sim\\) +upcie-sim-0001 +QEMU NVMe Ctrl +1 +67.11  MB /  67.11"
                + "  MB +512   B \\+  0 B +\\S+\n")
        .contains("  4 KiB +  0 B");
    r.assertOneLineErrorOnStderr("upcie: the controllers listed are simulated");

    JsonNode list =
        mapper.readTree(
            upcie("nvme", "list", "--sysfs-root", RECORDING.toString(), "--json").out());
    assertThat(list.get("schema").asText()).isEqualTo("upcie.nvme.list/1");
    JsonNode device = list.get("Devices").get(0);
    assertThat(device.get("Address").asText()).isEqualTo("0000:00:05.0");
    assertThat(device.get("Driver").asText()).isEqualTo("vfio-pci");
    assertThat(device.get("Simulated").asBoolean()).isTrue();
    assertThat(device.get("SerialNumber").asText()).isEqualTo("upcie-sim-0001");
    assertThat(device.get("Namespaces")).hasSize(2);
    assertThat(device.get("Namespaces").get(1).get("SectorSize").asInt()).isEqualTo(4096);
    assertThat(device.get("Namespaces").get(0).get("MaximumLBA").asLong()).isEqualTo(131072);
  }

  @Test
  void listShowsKernelControllersUntouchedAndFallsBackToTheSimulator() throws Exception {
    Path sysfs = export(SimMachine.qemuQ35());

    CommandResult r = upcie("nvme", "list", "--sysfs-root", sysfs.toString(), "--json");

    assertThat(r.exit()).isZero();
    r.assertOneLineErrorOnStderr(
        "upcie: no NVMe controller is bound to vfio-pci or uio_pci_generic here; listing the"
            + " simulated QEMU controller");
    JsonNode devices = mapper.readTree(r.out()).get("Devices");
    assertThat(devices).hasSize(2);
    assertThat(devices.get(0).get("Driver").asText()).isEqualTo("nvme");
    assertThat(devices.get(0).get("Backend").isNull()).isTrue();
    assertThat(devices.get(0).get("SerialNumber").isNull()).isTrue();
    assertThat(devices.get(0).get("Namespaces")).isEmpty();
    assertThat(devices.get(1).get("Simulated").asBoolean()).isTrue();
    assertThat(devices.get(1).get("Namespaces")).hasSize(2);
  }

  @Test
  void listTriesAControllerBoundToVfioAndSaysWhyItCannotOpenIt() {
    SimMachine machine = SimMachine.qemuQ35();
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:05.0"), "vfio-pci");
    // Where VFIO exists the real backend would get further than the simulated tree lets it; CI's
    // machine kind has none (its guests test VFIO), so there this must run, never be skipped.
    boolean vfioHere = Files.exists(Path.of("/dev/vfio/vfio"));
    assertThat(vfioHere && Boolean.getBoolean("upcie.ci"))
        .as("/dev/vfio/vfio exists but upcie.ci=true: CI's machine kind has no VFIO on the host")
        .isFalse();
    org.junit.jupiter.api.Assumptions.assumeFalse(
        vfioHere, "this machine has VFIO; the guest tests cover it");

    CommandResult r = upcie("nvme", "list", "--sysfs-root", export(machine).toString());

    assertThat(r.exit()).isEqualTo(1);
    r.assertOneLineErrorOnStderr("upcie: cannot list 0000:00:05.0: cannot open address");
    assertThat(r.out()).contains("0000:00:05.0 vfio-pci         -");
  }

  // ---- help ----

  @Test
  void everySubcommandHasHelpWithAnExample() {
    CommandResult nvme = upcie("nvme", "--help");

    assertThat(nvme.exit()).isZero();
    List<String> subcommands =
        List.of(
            "list",
            "id-ctrl",
            "id-ns",
            "read",
            "write",
            "smart-log",
            "get-feature",
            "perf",
            "show-regs");
    for (String name : subcommands) {
      assertThat(nvme.out()).containsPattern("\n  " + name + " +\\S");
      CommandResult help = upcie("nvme", name, "--help");
      assertThat(help.exit()).isZero();
      assertThat(help.out()).as(name).contains("Usage: upcie nvme " + name);
      if (!name.equals("show-regs")) {
        assertThat(help.out()).as(name).contains("Example").contains("--sim");
      }
    }
    assertThat(upcie("nvme", "read", "--help").out()).contains("0-based");
  }

  private Path export(SimMachine machine) {
    Path tree = dir.resolve("sysfs-" + System.nanoTime());
    machine.sysfs().copyTo(tree);
    return tree;
  }

  private static CommandResult upcie(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Upcie.run(args, new PrintWriter(out), new PrintWriter(err));
    return new CommandResult(exit, out.toString(), err.toString());
  }
}
