package dev.upcie.junit;

import static dev.upcie.junit.Kit.kit;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.platform.testkit.engine.EventConditions.event;
import static org.junit.platform.testkit.engine.EventConditions.finishedWithFailure;
import static org.junit.platform.testkit.engine.EventConditions.test;
import static org.junit.platform.testkit.engine.TestExecutionResultConditions.message;

import dev.upcie.junit.PciDevice.Scope;
import dev.upcie.mmio.Mmio;
import dev.upcie.nvme.NvmeRegisters;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.pci.PciDeviceHandle;
import dev.upcie.sim.SimMachine;
import dev.upcie.sim.SimPciDeviceHandle;
import dev.upcie.sim.edu.EduModel;
import dev.upcie.sim.model.DeviceModel;
import dev.upcie.sim.nvme.NvmeModel;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** What a {@code @PciDevice} element resolves to, how long it lives, and who shares it. */
class ResolutionTest {
  static final List<Object> SEEN = new CopyOnWriteArrayList<>();

  @BeforeEach
  void forget() {
    SEEN.clear();
  }

  @Test
  void eachTypeGetsItsViewOfOneSharedDevice() {
    kit().run(Views.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));

    PciDeviceHandle handle = (PciDeviceHandle) SEEN.get(0);
    assertThat(handle).isInstanceOf(SimPciDeviceHandle.class);
    assertThat(handle.address()).hasToString("0000:00:05.0");
    assertThat(SEEN.get(1)).as("the BAR").isInstanceOf(Mmio.class);
    assertThat(SEEN.get(3))
        .as("the model behind the handle")
        .isSameAs(((SimPciDeviceHandle) handle).model());
    assertThat(SEEN.get(5)).as("the edu model").isInstanceOf(EduModel.class);
    assertThat(SEEN.get(4))
        .as("the machine")
        .isInstanceOf(SimMachine.class)
        .satisfies(m -> assertThat(((SimMachine) m).hasModel(handle.address())).isTrue());
    assertThatThrownBy(() -> handle.bar(0))
        .as("closed after the test")
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void theNvmeControllerIsBroughtUpAndShutDownAfterTheTest() {
    kit().run(Controller.class).testEvents().assertStatistics(s -> s.succeeded(1));

    NvmeModel model = (NvmeModel) SEEN.get(1);
    // Closed with CC.SHN, then disabled: the controller is no longer ready.
    assertThat(NvmeRegisters.CSTS_RDY.get(model.bar0().read(NvmeRegisters.CSTS))).isZero();
  }

  @Test
  void fieldsAreInjectedStaticBeforeAllAndInstanceBeforeEach() {
    kit().run(Fields.class).testEvents().assertStatistics(s -> s.started(2).succeeded(2));

    assertThat(SEEN).hasSize(4);
    assertThat(SEEN.get(0)).as("the static field, both tests").isSameAs(SEEN.get(2));
    assertThat(SEEN.get(1)).as("the instance field, fresh per test").isNotSameAs(SEEN.get(3));
  }

  @Test
  void scopesDecideWhoSharesADevice() {
    kit().run(Scopes.class, OtherScopes.class).testEvents().assertStatistics(s -> s.succeeded(3));

    // Scopes.a, Scopes.b, OtherScopes.c each saw (test, class, global).
    assertThat(SEEN).hasSize(9);
    assertThat(SEEN.get(0)).as("TEST: fresh per test").isNotSameAs(SEEN.get(3));
    assertThat(SEEN.get(1)).as("CLASS: shared in the class").isSameAs(SEEN.get(4));
    assertThat(SEEN.get(7)).as("CLASS: not across classes").isNotSameAs(SEEN.get(4));
    assertThat(SEEN.get(2))
        .as("GLOBAL: across classes")
        .isSameAs(SEEN.get(5))
        .isSameAs(SEEN.get(8));
  }

  @Test
  void aNestedClassSeesItsOuterFieldsAndItsOwn() {
    kit().run(Outer.class).testEvents().assertStatistics(s -> s.started(1).succeeded(1));

    assertThat(SEEN).hasSize(2).doesNotContainNull();
  }

  @Test
  void aNamedDeviceComesFromTheConfiguration() {
    kit()
        .with("upcie.device.scratch", "id=1234:11e8")
        .run(Named.class)
        .testEvents()
        .assertStatistics(s -> s.succeeded(1));

    assertThat(((PciDeviceHandle) SEEN.get(0)).address()).hasToString("0000:00:06.0");
  }

  @Test
  void anUndefinedNameSaysWhatToSet() {
    kit()
        .run(Named.class)
        .testEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            finishedWithFailure(
                message(m ->
                    m.contains(
                        "@PciDevice parameter [scratch] of Named.test names the device"
                            + " \"scratch\", but the run does not define it: set the configuration"
                            + " parameter or system property upcie.device.scratch"))));
  }

  @Test
  void mistakesInTheTestAreReportedPrecisely() {
    var events = kit().run(Mistakes.class).testEvents().assertThatEvents();

    events
        .haveExactly(
            1,
            event(
                test("noCriteria"),
                finishedWithFailure(
                    message(m ->
                        m.endsWith(
                            "@PciDevice parameter [device] of Mistakes.noCriteria selects"
                                + " nothing: give an address, an id, a classCode or a name")))))
        .haveExactly(
            1,
            event(
                test("wrongType"),
                finishedWithFailure(
                    message(m ->
                        m.contains("has type java.lang.String; declare it as PciDeviceHandle")))))
        .haveExactly(
            1,
            event(
                test("badAddress"),
                finishedWithFailure(message(m -> m.contains("invalid PCI address \"00:zz.0\"")))))
        .haveExactly(
            1,
            event(
                test("badBar"),
                finishedWithFailure(
                    message(m ->
                        m.endsWith(
                            "@PciDevice parameter [bar] of Mistakes.badBar asks for BAR 6; a"
                                + " function has BARs 0 to 5")))))
        .haveExactly(
            1,
            event(
                test("wrongModel"),
                finishedWithFailure(
                    message(m ->
                        m.endsWith(
                            "@PciDevice parameter [model] of Mistakes.wrongModel wants a"
                                + " EduModel, but the sim backend gives a NvmeModel for"
                                + " 0000:00:05.0 1b36:0010 NVMe controller; declare it as"
                                + " DeviceModel")))));
  }

  @Test
  void aStaticFieldMustSayHowLongItLives() {
    kit()
        .run(StaticTestScope.class)
        .containerEvents()
        .assertThatEvents()
        .haveExactly(
            1,
            finishedWithFailure(
                message(m ->
                    m.endsWith(
                        "@PciDevice static field [nvme] of StaticTestScope has scope TEST, but a"
                            + " static field lives as long as its class: declare scope = CLASS"
                            + " (or GLOBAL), or make it an instance field"))));
  }

  static class Views {
    @Test
    void test(
        @PciDevice(classCode = "010802") PciDeviceHandle handle,
        @PciDevice(classCode = "010802") Mmio bar0,
        @PciDevice(id = "1b36:0010") SimPciDeviceHandle alike,
        @PciDevice(classCode = "010802") DeviceModel model,
        @PciDevice(classCode = "010802") SimMachine machine,
        @PciDevice(id = "1234:11e8") EduModel edu) {
      SEEN.addAll(List.of(handle, bar0, alike, model, machine, edu));
      assertThat(bar0.read(NvmeRegisters.VS)).isEqualTo(NvmeModel.QEMU_VS);
      assertThat(alike).as("another selection of the same function").isSameAs(handle);
      assertThat(machine.hasModel(dev.upcie.pci.PciAddress.parse("00:06.0"))).isTrue();
    }
  }

  static class Controller {
    @Test
    void test(
        @PciDevice(classCode = "010802") NvmeController nvme,
        @PciDevice(classCode = "010802") NvmeModel model) {
      SEEN.addAll(List.of(nvme, model));
      assertThat(nvme.identify().modelNumber()).isEqualTo("QEMU NVMe Ctrl");
      assertThat(NvmeRegisters.CSTS_RDY.get(model.bar0().read(NvmeRegisters.CSTS))).isOne();
    }
  }

  static class Fields {
    @PciDevice(classCode = "010802", scope = Scope.CLASS)
    static PciDeviceHandle shared;

    @PciDevice(classCode = "010802")
    PciDeviceHandle own;

    @Test
    void one() {
      SEEN.addAll(List.of(shared, own));
    }

    @Test
    void two() {
      SEEN.addAll(List.of(shared, own));
    }
  }

  static class Scopes {
    @Test
    void a(
        @PciDevice(id = "1234:11e8") PciDeviceHandle test,
        @PciDevice(id = "1234:11e8", scope = Scope.CLASS) PciDeviceHandle cls,
        @PciDevice(id = "1234:11e8", scope = Scope.GLOBAL) PciDeviceHandle global) {
      SEEN.addAll(List.of(test, cls, global));
    }

    @Test
    void b(
        @PciDevice(id = "1234:11e8") PciDeviceHandle test,
        @PciDevice(id = "1234:11e8", scope = Scope.CLASS) PciDeviceHandle cls,
        @PciDevice(id = "1234:11e8", scope = Scope.GLOBAL) PciDeviceHandle global) {
      SEEN.addAll(List.of(test, cls, global));
    }
  }

  static class OtherScopes {
    @Test
    void c(
        @PciDevice(id = "1234:11e8") PciDeviceHandle test,
        @PciDevice(id = "1234:11e8", scope = Scope.CLASS) PciDeviceHandle cls,
        @PciDevice(id = "1234:11e8", scope = Scope.GLOBAL) PciDeviceHandle global) {
      SEEN.addAll(List.of(test, cls, global));
    }
  }

  static class Outer {
    @PciDevice(classCode = "010802")
    PciDeviceHandle outer;

    @Nested
    class Inner {
      @PciDevice(id = "1234:11e8")
      PciDeviceHandle inner;

      @Test
      void test() {
        SEEN.add(outer);
        SEEN.add(inner);
      }
    }
  }

  static class Named {
    @Test
    void test(@PciDevice(name = "scratch") PciDeviceHandle scratch) {
      SEEN.add(scratch);
    }
  }

  static class Mistakes {
    @Test
    void noCriteria(@PciDevice PciDeviceHandle device) {}

    @Test
    void wrongType(@PciDevice(classCode = "0108") String device) {}

    @Test
    void badAddress(@PciDevice(address = "00:zz.0") PciDeviceHandle device) {}

    @Test
    void badBar(@PciDevice(classCode = "0108", bar = 6) Mmio bar) {}

    @Test
    void wrongModel(@PciDevice(classCode = "010802") EduModel model) {}
  }

  static class StaticTestScope {
    @PciDevice(classCode = "010802")
    static PciDeviceHandle nvme;

    @Test
    void test() {}
  }
}
