package dev.upcie.tools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.sim.SimMachine;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line against the simulated QEMU machine, exported to disk as a sysfs tree. */
class UpcieCommandTest {
  @TempDir Path sysfs;
  private SimMachine machine;

  @BeforeEach
  void exportSimulatedMachine() {
    machine = SimMachine.qemuQ35();
    machine.sysfs().copyTo(sysfs);
  }

  @Test
  void listPrintsEveryFunctionAsATable() {
    CommandResult r =
        upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "--pci-ids", "none");

    assertThat(r.exit()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out().lines())
        .hasSize(11)
        .first()
        .asString()
        .matches("ADDRESS +ID +CLASS +DESCRIPTION +DRIVER +IOMMU +NUMA +NODES +IN USE");
    assertThat(r.out())
        .containsPattern(
            "0000:00:05.0  1b36:0010  0x010802  NVMe controller +nvme +5 +- +/dev/nvme0 +-\n")
        .containsPattern("0000:00:06.0  1234:11e8  0x00ff00  Unclassified device +- +6 +- +- +-\n")
        .as("the ICH9 functions share group 7: each shows its two companions")
        .containsPattern("0000:00:1f.2  8086:2922  0x010601  SATA controller +- +7 \\(\\+2\\) ");
  }

  @Test
  void theSimulatedMachineCanStandInForTheKernel() {
    CommandResult r = upcie("devbind", "list", "--sysfs-root", "sim:q35", "1b36:0010");

    assertThat(r.exit()).isZero();
    assertThat(r.out()).contains("0000:00:05.0  1b36:0010  0x010802  NVMe controller");
    upcie("devbind", "list", "--sysfs-root", "sim:pdp11")
        .assertOneLineError(2, "the simulated machine is sim:q35");
  }

  @Test
  void listShowsAnOverrideThatIsNotYetInEffect() {
    machine.sysfs().write("bus/pci/devices/0000:00:06.0/driver_override", "vfio-pci");
    Path tree = sysfs.resolve("after");
    machine.sysfs().copyTo(tree);

    assertThat(upcie("devbind", "list", "--sysfs-root", tree.toString(), "00:06.0").out())
        .contains("- (override vfio-pci)");
  }

  @Test
  void listFiltersByAddressAndId() {
    CommandResult r =
        upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "1af4:1009", "00:05.0");

    assertThat(r.exit()).isZero();
    assertThat(r.out().lines().skip(1).map(l -> l.substring(0, 12)))
        .containsExactly("0000:00:03.0", "0000:00:04.0", "0000:00:05.0");
  }

  @Test
  void listJsonIsVersionedAndCarriesEveryField() throws Exception {
    CommandResult r =
        upcie("devbind", "list", "--json", "--sysfs-root", sysfs.toString(), "00:05.0");

    JsonNode document = new ObjectMapper().readTree(r.out());
    assertThat(document.get("schema").asText()).isEqualTo("upcie.devbind.list/1");
    JsonNode nvme = document.get("functions").get(0);
    assertThat(nvme.get("address").asText()).isEqualTo("0000:00:05.0");
    assertThat(nvme.get("vendor").asText()).isEqualTo("1b36");
    assertThat(nvme.get("device").asText()).isEqualTo("0010");
    assertThat(nvme.get("class").asText()).isEqualTo("010802");
    assertThat(nvme.get("driver").asText()).isEqualTo("nvme");
    assertThat(nvme.get("driver_override").isNull()).isTrue();
    assertThat(nvme.get("iommu_group").asInt()).isEqualTo(5);
    assertThat(nvme.get("numa_node").isNull()).isTrue();
    assertThat(nvme.get("revision").asInt()).isEqualTo(2);
    assertThat(nvme.get("iommu_group_members")).as("alone in its group").isEmpty();
    assertThat(nvme.get("nodes").toString())
        .isEqualTo("[{\"name\":\"/dev/nvme0\",\"kind\":\"nvme_controller\"}]");
    assertThat(nvme.get("in_use").isNull()).as("no disk of it is mounted").isTrue();
    assertThat(document.get("complete").asBoolean()).isTrue();
    assertThat(document.get("problems")).isEmpty();

    JsonNode sata =
        new ObjectMapper()
            .readTree(
                upcie("devbind", "list", "--json", "--sysfs-root", sysfs.toString(), "00:1f.2")
                    .out())
            .get("functions")
            .get(0);
    assertThat(sata.get("iommu_group_members").toString())
        .isEqualTo("[\"0000:00:1f.0\",\"0000:00:1f.3\"]");
  }

  @Test
  void namesComeFromPciIds() throws Exception {
    Path ids = sysfs.resolve("pci.ids");
    Files.writeString(
        ids,
        "1b36  Red Hat, Inc.\n\t0010  QEMU NVM Express Controller\n"
            + "\t\t1af4 1100  QEMU Virtual Machine\n");

    CommandResult r =
        upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "--pci-ids", ids.toString());
    JsonNode nvme =
        new ObjectMapper()
            .readTree(
                upcie(
                        "devbind",
                        "list",
                        "--json",
                        "--sysfs-root",
                        sysfs.toString(),
                        "--pci-ids",
                        ids.toString(),
                        "00:05.0")
                    .out())
            .get("functions")
            .get(0);

    assertThat(r.out())
        .contains("NVMe controller: Red Hat, Inc. QEMU NVM Express Controller  nvme")
        .as("a function the file does not name keeps its class alone")
        .containsPattern("0000:00:06.0  1234:11e8  0x00ff00  Unclassified device +- ");
    assertThat(nvme.get("vendor_name").asText()).isEqualTo("Red Hat, Inc.");
    assertThat(nvme.get("device_name").asText()).isEqualTo("QEMU NVM Express Controller");
    assertThat(nvme.get("subsystem_name").asText()).isEqualTo("QEMU Virtual Machine");
    upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "--pci-ids", "/nonexistent")
        .assertOneLineError(2, "--pci-ids /nonexistent: no such readable file");
  }

  @Test
  void anNvmeNameNamesItsController() {
    assertThat(listed(sysfs, "nvme0")).containsExactly("0000:00:05.0");
    assertThat(listed(sysfs, "/dev/nvme0")).containsExactly("0000:00:05.0");
    upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "/dev/nvme4n1")
        .assertOneLineError(3, "no NVMe device /dev/nvme4n1: ");
  }

  @Test
  void filtersNarrowTheListAndAllMustHold() {
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:06.0"), "vfio-pci");
    Path tree = sysfs.resolve("edu-on-vfio");
    machine.sysfs().copyTo(tree);

    assertThat(listed(tree, "--class", "nvme")).containsExactly("0000:00:05.0");
    assertThat(listed(tree, "--class", "0x0108")).containsExactly("0000:00:05.0");
    assertThat(listed(tree, "--class", "net")).containsExactly("0000:00:02.0");
    assertThat(listed(tree, "--driver", "nvme")).containsExactly("0000:00:05.0");
    assertThat(listed(tree, "--userspace")).containsExactly("0000:00:06.0");
    assertThat(listed(tree, "--iommu-group", "6")).containsExactly("0000:00:06.0");
    assertThat(listed(tree, "--vendor", "1b36", "--device", "0x0010"))
        .containsExactly("0000:00:05.0");
    assertThat(listed(tree, "--vendor", "1b36", "--device", "11e8")).isEmpty();
    assertThat(listed(tree, "--numa", "0")).as("the q35 guest has no NUMA node").isEmpty();
    assertThat(listed(tree, "--unbound"))
        .isNotEmpty()
        .doesNotContain("0000:00:05.0", "0000:00:06.0");
    assertThat(listed(tree, "--class", "nvme", "1234:11e8"))
        .as("a device named and a filter that rules it out")
        .isEmpty();

    upcie("devbind", "list", "--sysfs-root", tree.toString(), "--vendor", "zz")
        .assertOneLineError(2, "invalid --vendor \"zz\": expected up to 4 hexadecimal digits");
    upcie("devbind", "list", "--sysfs-root", tree.toString(), "--class", "disk")
        .assertOneLineError(2, "invalid PCI class code \"disk\"");
    upcie("devbind", "list", "--sysfs-root", tree.toString(), "--unbound", "--userspace")
        .assertOneLineError(2, "--unbound cannot be combined with --userspace or --driver");
  }

  /** The addresses {@code devbind list} shows with {@code options}. */
  private java.util.List<String> listed(Path tree, String... options) {
    java.util.List<String> args =
        new java.util.ArrayList<>(
            java.util.List.of("devbind", "list", "--sysfs-root", tree.toString()));
    args.addAll(java.util.List.of(options));
    CommandResult r = upcie(args.toArray(String[]::new));
    assertThat(r.exit()).as("exit status; stderr: %s", r.err()).isZero();
    return r.out().lines().skip(1).map(line -> line.split(" ")[0]).toList();
  }

  @Test
  void aMalformedFunctionIsReportedAndTheRestListedAsPartial() throws Exception {
    Path vendor = sysfs.resolve("bus/pci/devices/0000:00:06.0/vendor");
    Files.writeString(vendor, "garbage\n");

    CommandResult r = upcie("devbind", "list", "--sysfs-root", sysfs.toString());

    assertThat(r.exit()).as("partial").isEqualTo(5);
    assertThat(r.out().lines()).hasSize(10).noneMatch(line -> line.startsWith("0000:00:06.0"));
    assertThat(r.out()).contains("0000:00:05.0  1b36:0010");
    assertThat(r.err())
        .isEqualTo(
            "upcie: not listed: 0000:00:06.0: unexpected content \"garbage\" in "
                + vendor
                + ": expected a hexadecimal number from 0 to 0xffff (its sysfs entry is"
                + " malformed; the rest are listed)\n");

    CommandResult json = upcie("devbind", "list", "--json", "--sysfs-root", sysfs.toString());
    JsonNode document = new ObjectMapper().readTree(json.out());
    assertThat(json.exit()).isEqualTo(5);
    assertThat(document.get("complete").asBoolean()).isFalse();
    assertThat(document.get("functions")).hasSize(9);
    assertThat(document.get("problems")).hasSize(1);
    assertThat(document.get("problems").get(0).get("entry").asText()).isEqualTo("0000:00:06.0");
    assertThat(document.get("problems").get(0).get("kind").asText()).isEqualTo("malformed");

    CommandResult named = upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "00:06.0");
    assertThat(named.exit())
        .as("the function asked for is the unreadable one: partial, not 'not found'")
        .isEqualTo(5);
    assertThat(named.err()).startsWith("upcie: not listed: 0000:00:06.0: ");
  }

  @Test
  void badInputIsOneLineAndADistinctExitStatus() {
    upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "zz")
        .assertOneLineError(2, "invalid device \"zz\"");
    upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "00:09.0")
        .assertOneLineError(3, "no PCI function with address 0000:00:09.0");
    upcie("devbind", "list", "--sysfs-root", sysfs.resolve("nope").toString())
        .assertOneLineError(2, "--sysfs-root " + sysfs.resolve("nope") + ": no such directory");
    upcie("devbind", "list", "--sysfs-root", sysfs.resolve("bus").toString())
        .assertOneLineError(1, "no bus/pci/devices under " + sysfs.resolve("bus"));
    upcie("devbind", "list", "--frobnicate")
        .assertOneLineError(2, "Unknown option: '--frobnicate'");
    upcie("devbind", "list", "--sysfs-root", sysfs.toString(), "00:04")
        .assertOneLineError(2, "invalid device \"00:04\": expected an address");
  }

  @Test
  void showRegsDecodesTheSimulatedController() {
    CommandResult r = upcie("nvme", "show-regs", "--backend", "sim");

    assertThat(r.exit()).isZero();
    assertThat(r.out())
        .contains("device  0000:00:05.0 1b36:0010 NVMe controller (sim)")
        .contains(
            "cap     0x004018200f0107ff  mqes=2047 cqr=1 ams=0 to=15 dstrd=0 nssrs=0 css=0xc1"
                + " mpsmin=0 mpsmax=4 pmrs=0 cmbs=0  (ready timeout 7500 ms)\n")
        .contains("vs      0x00010400          ter=0 mnr=4 mjr=1  (1.4.0)\n")
        .contains("intms   0x00000000\n")
        .contains("csts    0x00000000          rdy=0 cfs=0 shst=0 nssro=0 pp=0\n");
  }

  @Test
  void showRegsFallsBackToTheSimulatorAndSaysSo() throws Exception {
    CommandResult r = upcie("nvme", "show-regs", "--json", "--sysfs-root", sysfs.toString());

    assertThat(r.exit()).isZero();
    assertThat(r.err())
        .contains(
            "no NVMe controller matching class 0x010802 is bound to vfio-pci or uio_pci_generic"
                + " here; showing the simulated QEMU controller");
    JsonNode document = new ObjectMapper().readTree(r.out());
    assertThat(document.get("device").get("backend").asText()).isEqualTo("sim");
    assertThat(document.get("registers").get("cap").asLong()).isEqualTo(0x004018200f0107ffL);
    assertThat(document.get("version").asText()).isEqualTo("1.4.0");
  }

  @Test
  void showRegsPicksAControllerBoundToVfioAndReportsWhyItCannotOpenIt() {
    assumeFalse(
        Files.exists(Path.of("/dev/vfio/vfio")), "this machine has VFIO; the guest tests cover it");
    new PciDriverBinder(machine.sysfs()).bind(PciAddress.parse("00:05.0"), "vfio-pci");
    Path tree = sysfs.resolve("bound");
    machine.sysfs().copyTo(tree);

    CommandResult r = upcie("nvme", "show-regs", "--sysfs-root", tree.toString());

    // The tree says vfio-pci, so auto takes the real path; this machine has no /dev/vfio.
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err())
        .startsWith(
            "upcie: cannot open class 0x010802 on the vfio backend, which auto chose because a"
                + " matching function is bound to vfio-pci: VFIO is not available: /dev/vfio/vfio"
                + " does not exist");
  }

  @Test
  void eachSubcommandIsBuiltOnlyWhenInvokedYetTheUsageListsThemAll() {
    // The usage (no subcommand named) lists every subcommand with its description.
    CommandResult usage = upcie("--help");
    assertThat(usage.exit()).isZero();
    assertThat(usage.out())
        .containsPattern("\n +devbind +Inspect PCI functions")
        .containsPattern("\n +hugepages +Inspect and reserve hugepages")
        .containsPattern("\n +nvme +Talk to an NVMe controller");
    upcie("devbnd").assertOneLineError(2, "Unmatched argument at index 0: 'devbnd'");
    // So does a group's usage, and a mistyped name within it is one line too.
    assertThat(upcie("hugepages", "--help").out())
        .containsPattern("\n +status +")
        .containsPattern("\n +reserve +")
        .containsPattern("\n +release +")
        .containsPattern("\n +mount +")
        .containsPattern("\n +unmount +");
    upcie("hugepages", "stats").assertOneLineError(2, "Unmatched argument at index 1: 'stats'");
    // Each name in the tables is the one its command declares, so help and errors agree.
    Upcie.SUBCOMMANDS.forEach((name, command) ->
        assertThat(command.getAnnotation(picocli.CommandLine.Command.class).name())
            .isEqualTo(name));
    Upcie.GROUPS.forEach((group, subcommands) ->
        subcommands.forEach((name, command) ->
            assertThat(command.getAnnotation(picocli.CommandLine.Command.class).name())
                .as("%s %s", group, name)
                .isEqualTo(name)));
  }

  private static CommandResult upcie(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int exit = Upcie.run(args, new PrintWriter(out), new PrintWriter(err));
    return new CommandResult(exit, out.toString(), err.toString());
  }
}
