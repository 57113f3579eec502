package dev.upcie.doctor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.upcie.doctor.Finding.Status;
import dev.upcie.support.InvalidInputException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What the doctor finds on machines built for the test, and the fixes it names. */
class DoctorTest {
  @TempDir Path dir;

  private MachineFixture machine() {
    return new MachineFixture(dir);
  }

  private static Finding finding(Diagnosis diagnosis, String id) {
    return diagnosis.find(id).orElseThrow(() -> new AssertionError("no finding " + id));
  }

  @Test
  void everyCheckReportsOnceInItsOrder() {
    Diagnosis diagnosis = machine().examine();

    assertThat(diagnosis.findings())
        .extracting(Finding::id)
        .containsExactlyElementsOf(Doctor.CHECKS);
  }

  @Test
  void aReadyVfioMachineHasNoProblem() {
    MachineFixture machine =
        machine()
            .iommu(3)
            .vfioLoaded("N")
            .hugepages(2048, 512, 512)
            .memlock("unlimited", "unlimited");
    machine.mount("hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0");

    Diagnosis diagnosis = machine.examine();

    assertThat(diagnosis.hasProblems()).as("%s", diagnosis.attention()).isFalse();
    assertThat(diagnosis.findings())
        .filteredOn(f -> !f.id().equals("uio-modules"))
        .allSatisfy(f -> assertThat(f.status()).as(f.id() + ": " + f.found()).isEqualTo(Status.OK));
  }

  @Nested
  class Iommu {
    @Test
    void anIommuWithGroupsIsOnAndTheBootParametersAreNamed() {
      Finding iommu = finding(machine().iommu(3).examine(), "iommu");

      assertThat(iommu.status()).isEqualTo(Status.OK);
      assertThat(iommu.found())
          .contains("IOMMU on")
          .contains("class/iommu has dmar0")
          .contains("3 groups")
          .contains("booted with intel_iommu=on iommu=pt")
          .contains("proc/cmdline");
      assertThat(iommu.fix()).isEmpty();
    }

    @Test
    void noIommuIsAWarningWhileUioCanStandIn() {
      Finding iommu = finding(machine().examine(), "iommu");

      assertThat(iommu.status()).isEqualTo(Status.WARNING);
      assertThat(iommu.found()).startsWith("no IOMMU").contains("has no IOMMU or VFIO parameter");
      assertThat(iommu.fix())
          .hasValue(
              "sed -i 's/^GRUB_CMDLINE_LINUX=\"/&intel_iommu=on iommu=pt /' /etc/default/grub"
                  + " && update-grub && reboot");
    }

    @Test
    void noIommuAndNoUioIsAProblem() {
      Diagnosis diagnosis =
          machine()
              .modulesDep(
                  "kernel/drivers/vfio/pci/vfio-pci.ko.xz:\nkernel/drivers/vfio/vfio.ko.xz:\n")
              .examine();

      assertThat(finding(diagnosis, "iommu").status()).isEqualTo(Status.PROBLEM);
      assertThat(finding(diagnosis, "uio-modules").status()).isEqualTo(Status.PROBLEM);
      assertThat(finding(diagnosis, "uio-modules").found())
          .contains("uio_pci_generic is not built for this kernel");
      assertThat(diagnosis.hasProblems()).isTrue();
      assertThat(diagnosis.attention().getFirst().status()).isEqualTo(Status.PROBLEM);
    }

    @Test
    void anIommuSwitchedOffOnTheCommandLineIsSwitchedBackOn() {
      Finding iommu = finding(machine().cmdline("intel_iommu=off").examine(), "iommu");

      assertThat(iommu.found()).contains("booted with intel_iommu=off").contains("switched it off");
      assertThat(iommu.fix())
          .hasValue(
              "sed -i 's/intel_iommu=off/intel_iommu=on iommu=pt/' /etc/default/grub && update-grub"
                  + " && reboot");
    }

    @Test
    void aVirtualMachineNeedsItsHypervisorToGiveItOne() {
      Finding iommu = finding(machine().virtualMachine().examine(), "iommu");

      assertThat(iommu.found()).contains("virtual machine").contains("-device intel-iommu");
      assertThat(iommu.fix()).isEmpty();
    }

    @Test
    void askedForButAbsentMeansTheFirmwareHasItOff() {
      Finding iommu = finding(machine().cmdline("intel_iommu=on").examine(), "iommu");

      assertThat(iommu.found()).contains("firmware setup");
      assertThat(iommu.fix()).isEmpty();
    }

    @Test
    void vfiosNoIommuGroupsAreNotAnIommu() {
      Finding iommu = finding(machine().vfioLoaded("Y").noiommuGroup(0).examine(), "iommu");

      assertThat(iommu.status()).isEqualTo(Status.WARNING);
      assertThat(iommu.found()).contains("only vfio's 1 no-IOMMU group");
    }
  }

  @Nested
  class NoIommuMode {
    @Test
    void onWithoutAnIommuIsAWarningAndNamesTheTaint() {
      Finding noiommu =
          finding(
              machine()
                  .vfioLoaded("Y")
                  .noiommuGroup(0)
                  .procFile("sys/kernel/tainted", "64\n")
                  .examine(),
              "noiommu");

      assertThat(noiommu.status()).isEqualTo(Status.WARNING);
      assertThat(noiommu.found())
          .contains("no-IOMMU mode is on")
          .contains("enable_unsafe_noiommu_mode is Y")
          .contains("tainted U (TAINT_USER");
      assertThat(noiommu.fix()).isEmpty();
    }

    @Test
    void onBesideAnIommuIsSwitchedOff() {
      Finding noiommu = finding(machine().iommu(1).vfioLoaded("Y").examine(), "noiommu");

      assertThat(noiommu.status()).isEqualTo(Status.WARNING);
      assertThat(noiommu.fix().orElseThrow())
          .startsWith("echo N > ")
          .endsWith("sys/module/vfio/parameters/enable_unsafe_noiommu_mode");
    }

    @Test
    void offWithoutAnIommuSaysHowToSwitchItOn() {
      Finding noiommu = finding(machine().vfioLoaded("N").examine(), "noiommu");

      assertThat(noiommu.status()).isEqualTo(Status.OK);
      assertThat(noiommu.found()).contains("is off").contains("echo Y > ");
    }

    @Test
    void aKernelWithoutTheModeSaysSo() {
      Finding noiommu = finding(machine().vfioLoaded(null).examine(), "noiommu");

      assertThat(noiommu.found()).contains("CONFIG_VFIO_NOIOMMU is off");
    }
  }

  @Nested
  class Modules {
    @Test
    void loadedVfioIsOk() {
      Finding vfio = finding(machine().iommu(1).vfioLoaded("N").examine(), "vfio-modules");

      assertThat(vfio.status()).isEqualTo(Status.OK);
      assertThat(vfio.found())
          .contains("vfio_pci is loaded (")
          .contains("vfio_iommu_type1 is loaded (");
    }

    @Test
    void loadableVfioIsOneModprobeAway() {
      Finding vfio = finding(machine().iommu(1).examine(), "vfio-modules");

      assertThat(vfio.status()).isEqualTo(Status.WARNING);
      assertThat(vfio.found())
          .contains("vfio_pci is not loaded but can be (")
          .contains("modules.dep");
      assertThat(vfio.fix()).hasValue("modprobe vfio-pci");
    }

    @Test
    void aBuiltInDriverIsPresent() throws Exception {
      MachineFixture machine = machine().iommu(1);
      Files.writeString(
          machine.modules().resolve(MachineFixture.RELEASE + "/modules.builtin"),
          "kernel/drivers/uio/uio.ko\nkernel/drivers/uio/uio_pci_generic.ko\n");

      Finding uio = finding(machine.examine(), "uio-modules");

      assertThat(uio.status()).isEqualTo(Status.OK);
      assertThat(uio.found()).contains("uio_pci_generic is built in (").contains("modules.builtin");
    }

    @Test
    void aBuiltInModuleWithParametersShowsWithoutInitstate() {
      Finding vfio =
          finding(
              machine().iommu(1).sysDir("module/vfio_pci/parameters").examine(), "vfio-modules");

      assertThat(vfio.found()).contains("vfio_pci is built in (").contains("has no initstate");
    }

    @Test
    void loadedUioIsOkAndNamesIgbUio() {
      Finding uio =
          finding(
              machine()
                  .loaded("uio_pci_generic", "uio_pci_generic")
                  .sysDir("bus/pci/drivers/igb_uio")
                  .examine(),
              "uio-modules");

      assertThat(uio.status()).isEqualTo(Status.OK);
      assertThat(uio.found()).contains("igb_uio is loaded");
    }

    @Test
    void withoutTheModuleIndexWhetherTheyCouldLoadIsUnknown() throws Exception {
      MachineFixture machine = machine();
      Files.delete(machine.modules().resolve(MachineFixture.RELEASE + "/modules.dep"));

      Diagnosis diagnosis = machine.examine();

      assertThat(finding(diagnosis, "vfio-modules").status()).isEqualTo(Status.UNKNOWN);
      assertThat(finding(diagnosis, "vfio-modules").found())
          .contains("modules of kernel " + MachineFixture.RELEASE + " are not installed");
      assertThat(finding(diagnosis, "iommu").status())
          .as("uio might still load, so no IOMMU is not yet a problem")
          .isEqualTo(Status.WARNING);
    }

    @Test
    void switchedOffModuleLoadingNeedsAReboot() {
      Finding vfio =
          finding(
              machine().iommu(1).procFile("sys/kernel/modules_disabled", "1\n").examine(),
              "vfio-modules");

      assertThat(vfio.found()).contains("module loading is switched off until the next boot");
      assertThat(vfio.fix()).hasValue("reboot");
    }

    @Test
    void aLowDmaEntryLimitIsRaised() {
      MachineFixture machine = machine().iommu(1).vfioLoaded("N");
      machine.file("module/vfio_iommu_type1/parameters/dma_entry_limit", "1024\n");

      Finding limit = finding(machine.examine(), "dma-entry-limit");

      assertThat(limit.status()).isEqualTo(Status.WARNING);
      assertThat(limit.found()).contains("only 1024 DMA mappings");
      assertThat(limit.fix().orElseThrow()).startsWith("echo 65535 > ");
    }

    @Test
    void iommufdAndItsCdevsAreReported() {
      Finding absent = finding(machine().examine(), "iommufd");
      MachineFixture machine =
          machine().loaded("iommufd", null).node("iommu").node("vfio/devices/vfio0");
      Finding present = finding(machine.examine(), "iommufd");

      assertThat(absent.status()).isEqualTo(Status.OK);
      assertThat(absent.found())
          .contains("iommufd is not available")
          .contains("iommufd is not loaded but can be");
      assertThat(present.found()).contains("iommufd is available").contains(": vfio0");
    }
  }

  @Nested
  class Memlock {
    @Test
    void aLowLimitIsAProblemForVfio() {
      Finding memlock =
          finding(machine().iommu(1).memlock("8388608", "unlimited").examine(), "memlock");

      assertThat(memlock.status()).isEqualTo(Status.PROBLEM);
      assertThat(memlock.found())
          .contains("RLIMIT_MEMLOCK is 8 MiB (")
          .contains(
              "less than the 64 MiB of DMA memory (every reserved hugepage, at least 64 MiB)");
      assertThat(memlock.fix()).hasValue("ulimit -l unlimited");
    }

    @Test
    void theNeedFollowsTheReservedHugepages() {
      Finding memlock =
          finding(
              machine()
                  .iommu(1)
                  .hugepages(2048, 512, 512)
                  .memlock("8388608", "4294967296")
                  .examine(),
              "memlock");

      assertThat(memlock.found()).contains("less than the 1 GiB of DMA memory");
      assertThat(memlock.fix()).hasValue("ulimit -l 1048576");
    }

    @Test
    void aHardLimitTooLowNeedsLimitsConf() {
      Finding memlock = finding(machine().iommu(1).examine(), "memlock");

      assertThat(memlock.fix().orElseThrow())
          .contains("memlock unlimited")
          .contains("/etc/security/limits.d/");
    }

    @Test
    void theCallersNeedWins() {
      Finding memlock =
          finding(
              Doctor.of(machine().iommu(1).host())
                  .withModules(dir.resolve("lib/modules"))
                  .withMemlockNeed(4 << 20)
                  .examine(),
              "memlock");

      assertThat(memlock.status()).isEqualTo(Status.OK);
      assertThat(memlock.found()).contains("enough for 4 MiB of DMA memory asked for");
      assertThatThrownBy(() -> Doctor.of(machine().host()).withMemlockNeed(0))
          .isInstanceOf(InvalidInputException.class);
    }

    @Test
    void unlimitedOrCapIpcLockIsOk() {
      Finding unlimited =
          finding(machine().iommu(1).memlock("unlimited", "unlimited").examine(), "memlock");
      Finding root = finding(machine().iommu(1).root().examine(), "memlock");

      assertThat(unlimited.status()).isEqualTo(Status.OK);
      assertThat(unlimited.found()).contains("RLIMIT_MEMLOCK is unlimited");
      assertThat(root.status()).isEqualTo(Status.OK);
      assertThat(root.found()).contains("CAP_IPC_LOCK");
    }

    @Test
    void withoutVfioALowLimitIsOnlyAWarning() {
      Finding memlock =
          finding(
              machine().modulesDep("kernel/drivers/uio/uio_pci_generic.ko:\n").examine(),
              "memlock");

      assertThat(memlock.status()).isEqualTo(Status.WARNING);
    }
  }

  @Nested
  class Hugepages {
    @Test
    void noneReservedIsAProblemWithTheReserveCommand() {
      Finding hugepages = finding(machine().examine(), "hugepages");

      assertThat(hugepages.status()).isEqualTo(Status.PROBLEM);
      assertThat(hugepages.found()).contains("no hugepages are reserved");
      assertThat(hugepages.fix()).hasValue("upcie hugepages reserve 1G");
    }

    @Test
    void aSmallMachineIsAskedForLess() {
      Finding hugepages =
          finding(
              machine()
                  .procFile("meminfo", "MemTotal: 2048000 kB\nHugepagesize: 2048 kB\n")
                  .examine(),
              "hugepages");

      assertThat(hugepages.fix()).hasValue("upcie hugepages reserve 250M");
    }

    @Test
    void overcommitIsAWarning() {
      MachineFixture machine = machine();
      machine.file("kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages", "128\n");

      assertThat(finding(machine.examine(), "hugepages").status()).isEqualTo(Status.WARNING);
    }

    @Test
    void reservedAndFreeIsReadyPerSizeAndNode() {
      MachineFixture machine = machine().hugepages(2048, 48, 40).hugepages(1048576, 0, 0);
      for (int node = 0; node < 2; node++) {
        String dir = "devices/system/node/node" + node + "/hugepages/hugepages-2048kB/";
        machine.file(dir + "nr_hugepages", (node == 0 ? 32 : 16) + "\n");
        machine.file(dir + "free_hugepages", "0\n");
        machine.file(dir + "surplus_hugepages", "0\n");
      }

      Finding hugepages = finding(machine.examine(), "hugepages");

      assertThat(hugepages.status()).isEqualTo(Status.OK);
      assertThat(hugepages.found())
          .contains("2M: 48 pages (96 MiB), 40 available (node 0: 32, node 1: 16)")
          .doesNotContain("1G");
    }

    @Test
    void everyPageInUseIsAWarning() {
      Finding hugepages = finding(machine().hugepages(2048, 16, 0).examine(), "hugepages");

      assertThat(hugepages.status()).isEqualTo(Status.WARNING);
      assertThat(hugepages.fix()).hasValue("upcie hugepages reserve 1G");
    }

    @Test
    void aReservedSizeWithoutAMountIsAWarningWithTheMountCommand() {
      MachineFixture machine = machine().hugepages(2048, 16, 16);
      Finding without = finding(machine.examine(), "hugetlbfs");
      machine.mount("hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0");
      Finding with = finding(machine.examine(), "hugetlbfs");

      assertThat(without.status()).isEqualTo(Status.WARNING);
      assertThat(without.fix()).hasValue("upcie hugepages mount --pagesize 2M");
      assertThat(with.status()).isEqualTo(Status.OK);
      assertThat(with.found()).contains("hugetlbfs mounted at /dev/hugepages (2M)");
    }
  }

  @Nested
  class System {
    @Test
    void lockdownStopsUioSoNoIommuBecomesAProblem() {
      Diagnosis diagnosis =
          machine()
              .file("kernel/security/lockdown", "none [integrity] confidentiality\n")
              .examine();

      assertThat(finding(diagnosis, "lockdown").status()).isEqualTo(Status.WARNING);
      assertThat(finding(diagnosis, "lockdown").found())
          .contains("locked down (integrity")
          .contains("igb_uio");
      assertThat(finding(diagnosis, "lockdown").fix())
          .hasValue("mokutil --disable-validation && reboot");
      assertThat(finding(diagnosis, "iommu").status()).isEqualTo(Status.PROBLEM);
    }

    @Test
    void withoutSecurityfsLockdownIsUnknown() throws Exception {
      MachineFixture machine = machine().mounts("sysfs /sys sysfs rw 0 0\n");
      Files.delete(dir.resolve("sys/kernel/security/lockdown"));

      Finding lockdown = finding(machine.examine(), "lockdown");

      assertThat(lockdown.status()).isEqualTo(Status.UNKNOWN);
      assertThat(lockdown.fix().orElseThrow()).startsWith("mount -t securityfs securityfs ");
    }

    @Test
    void aReadOnlySysIsAWarning() {
      Finding sysfs =
          finding(machine().mounts("sysfs /sys sysfs ro,nosuid 0 0\n").examine(), "sysfs-writable");

      assertThat(sysfs.status()).isEqualTo(Status.WARNING);
      assertThat(sysfs.found()).contains("read-only").contains("container");
    }

    @Test
    void rootAndOrdinaryUsersAreTold() {
      assertThat(finding(machine().examine(), "privileges").found()).contains("uid 1000, not root");
      assertThat(finding(machine().root().examine(), "privileges").found())
          .startsWith("running as root");
    }

    @Test
    void aFileThatCannotBeReadMakesItsCheckUnknownAndTheRestRun() throws Exception {
      MachineFixture machine = machine();
      Path lockdown = dir.resolve("sys/kernel/security/lockdown");
      Files.delete(lockdown);
      Files.createDirectory(lockdown);

      Diagnosis diagnosis = machine.examine();

      assertThat(finding(diagnosis, "lockdown").status()).isEqualTo(Status.UNKNOWN);
      assertThat(finding(diagnosis, "lockdown").found())
          .startsWith("could not read " + lockdown)
          .contains("EIO")
          .doesNotContain("root");
      assertThat(diagnosis.findings()).hasSize(Doctor.CHECKS.size());
    }
  }
}
