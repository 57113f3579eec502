package dev.upcie.it.device;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.junit.PciDevice;
import dev.upcie.nvme.driver.IdentifyController;
import dev.upcie.nvme.driver.IdentifyNamespace;
import dev.upcie.nvme.driver.LbaFormat;
import dev.upcie.nvme.driver.NvmeController;
import dev.upcie.pci.PciDeviceHandle;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * nvme-cli as the oracle for what the driver decodes: before the guest script moved QEMU's
 * controller away from the kernel's {@code nvme} driver, {@code nvme id-ctrl -o json} and {@code
 * nvme id-ns -o json} saved its Identify data; here our driver reads the same controller through
 * VFIO or UIO, and every field it decodes must equal what nvme-cli printed. Guest only: the host
 * has no nvme-cli output for the simulator (the model's bytes are compared with nvme-cli's on the
 * host by {@code QemuVfioIT}).
 */
@Tag(GuestRun.GUEST_ONLY)
public class NvmeDriverVersusNvmeCliTest {
  /** System property: the directory where the guest saved nvme-cli's JSON. */
  public static final String DIRECTORY = "upcie.it.nvmeCliDirectory";

  /** nvme-cli's key for each field of Identify Controller the driver decodes. */
  static final Map<String, Function<IdentifyController, Object>> CONTROLLER = controllerFields();

  /** nvme-cli's key for each field of Identify Namespace the driver decodes (LBA formats apart). */
  static final Map<String, Function<IdentifyNamespace, Object>> NAMESPACE = namespaceFields();

  @Test
  void everyFieldTheDriverDecodesIsWhatNvmeCliPrinted(
      @PciDevice(id = "1b36:0010") PciDeviceHandle device) throws IOException {
    Path directory = Path.of(System.getProperty(DIRECTORY, "nvme-cli output not given"));
    assertThat(directory.resolve("id-ctrl.json"))
        .as("nvme id-ctrl -o json, saved by the guest script (%s)", DIRECTORY)
        .exists();
    ObjectMapper json = new ObjectMapper();
    List<String> differences = new ArrayList<>();
    try (NvmeController nvme = NvmeController.open(device)) {
      JsonNode ctrl = json.readTree(directory.resolve("id-ctrl.json").toFile());
      compare("id-ctrl", ctrl, CONTROLLER, nvme.identify(), differences);
      for (int nsid : NvmeLayout.current().nsids()) {
        JsonNode ns = json.readTree(directory.resolve("id-ns-" + nsid + ".json").toFile());
        IdentifyNamespace id = nvme.identifyNamespace(nsid);
        compare("id-ns " + nsid, ns, NAMESPACE, id, differences);
        JsonNode formats = ns.get("lbafs");
        assertThat(formats).as("lbafs of namespace %d", nsid).hasSize(id.lbaFormats().size());
        for (int i = 0; i < id.lbaFormats().size(); i++) {
          LbaFormat ours = id.lbaFormats().get(i);
          JsonNode theirs = formats.get(i);
          String where = "id-ns " + nsid + " lbafs[" + i + "]";
          check(where + ".ms", theirs.get("ms"), ours.metadataSize(), differences);
          check(where + ".ds", theirs.get("ds"), ours.dataSizeShift(), differences);
          check(where + ".rp", theirs.get("rp"), ours.relativePerformance(), differences);
        }
      }
    }
    assertThat(differences).as("fields the driver decodes differently from nvme-cli").isEmpty();
  }

  /** Every component of the records is compared: a field added later cannot go unchecked. */
  @Test
  void theTablesCoverEveryDecodedField() {
    assertThat(CONTROLLER).hasSize(IdentifyController.class.getRecordComponents().length);
    // nsid is the command's, not the structure's; lbaFormats are compared one by one.
    assertThat(NAMESPACE).hasSize(IdentifyNamespace.class.getRecordComponents().length - 2);
  }

  private static <T> void compare(
      String command,
      JsonNode printed,
      Map<String, Function<T, Object>> fields,
      T decoded,
      List<String> differences) {
    fields.forEach((key, field) ->
        check(command + " " + key, printed.get(key), field.apply(decoded), differences));
  }

  private static void check(String where, JsonNode printed, Object ours, List<String> out) {
    if (printed == null) {
      out.add(where + ": nvme-cli printed no such field");
      return;
    }
    boolean same =
        ours instanceof String s
            ? printed.asText().strip().equals(s)
            : number(printed).equals(toBig(ours));
    if (!same) {
      out.add(where + ": nvme-cli " + printed + ", driver " + ours);
    }
  }

  /** nvme-cli prints up to 32 bits as a C int (wrapping negative), 128 bits as a string. */
  private static BigInteger number(JsonNode node) {
    if (node.isTextual()) {
      return new BigInteger(node.asText());
    }
    if (node.isInt() && node.asInt() < 0) {
      return BigInteger.valueOf(Integer.toUnsignedLong(node.asInt()));
    }
    return node.bigIntegerValue();
  }

  private static BigInteger toBig(Object value) {
    return switch (value) {
      case BigInteger b -> b;
      case Long l -> BigInteger.valueOf(l);
      case Integer i -> BigInteger.valueOf(i);
      default -> throw new IllegalArgumentException("not a number: " + value);
    };
  }

  private static Map<String, Function<IdentifyController, Object>> controllerFields() {
    Map<String, Function<IdentifyController, Object>> m = new LinkedHashMap<>();
    m.put("vid", IdentifyController::vendorId);
    m.put("ssvid", IdentifyController::subsystemVendorId);
    m.put("sn", IdentifyController::serialNumber);
    m.put("mn", IdentifyController::modelNumber);
    m.put("fr", IdentifyController::firmwareRevision);
    m.put("rab", IdentifyController::recommendedArbitrationBurst);
    m.put("ieee", IdentifyController::ieeeOui);
    m.put("cmic", IdentifyController::multipathCapabilities);
    m.put("mdts", IdentifyController::maxDataTransferSize);
    m.put("cntlid", IdentifyController::controllerId);
    m.put("ver", id -> id.version().value());
    m.put("rtd3r", IdentifyController::rtd3ResumeLatency);
    m.put("rtd3e", IdentifyController::rtd3EntryLatency);
    m.put("oaes", IdentifyController::asyncEventsSupported);
    m.put("ctratt", IdentifyController::controllerAttributes);
    m.put("cntrltype", IdentifyController::controllerType);
    m.put("oacs", IdentifyController::optionalAdminCommands);
    m.put("acl", IdentifyController::abortCommandLimit);
    m.put("aerl", IdentifyController::asyncEventRequestLimit);
    m.put("frmw", IdentifyController::firmwareUpdates);
    m.put("lpa", IdentifyController::logPageAttributes);
    m.put("elpe", IdentifyController::errorLogEntries);
    m.put("npss", IdentifyController::powerStates);
    m.put("wctemp", IdentifyController::warningTemperature);
    m.put("cctemp", IdentifyController::criticalTemperature);
    m.put("tnvmcap", IdentifyController::totalCapacity);
    m.put("unvmcap", IdentifyController::unallocatedCapacity);
    m.put("sqes", IdentifyController::submissionEntrySizes);
    m.put("cqes", IdentifyController::completionEntrySizes);
    m.put("maxcmd", IdentifyController::maxOutstandingCommands);
    m.put("nn", IdentifyController::namespaceCount);
    m.put("oncs", IdentifyController::optionalNvmCommands);
    m.put("fuses", IdentifyController::fusedOperations);
    m.put("fna", IdentifyController::formatAttributes);
    m.put("vwc", IdentifyController::volatileWriteCache);
    m.put("awun", IdentifyController::atomicWriteUnitNormal);
    m.put("awupf", IdentifyController::atomicWriteUnitPowerFail);
    m.put("acwu", IdentifyController::atomicCompareWriteUnit);
    m.put("sgls", IdentifyController::sglSupport);
    m.put("mnan", IdentifyController::maxAllowedNamespaces);
    m.put("subnqn", IdentifyController::subsystemNqn);
    return m;
  }

  private static Map<String, Function<IdentifyNamespace, Object>> namespaceFields() {
    Map<String, Function<IdentifyNamespace, Object>> m = new LinkedHashMap<>();
    m.put("nsze", IdentifyNamespace::size);
    m.put("ncap", IdentifyNamespace::capacity);
    m.put("nuse", IdentifyNamespace::utilization);
    m.put("nsfeat", IdentifyNamespace::features);
    m.put("nlbaf", IdentifyNamespace::lbaFormatCount);
    m.put("flbas", IdentifyNamespace::formattedLbaSize);
    m.put("mc", IdentifyNamespace::metadataCapabilities);
    m.put("dpc", IdentifyNamespace::protectionCapabilities);
    m.put("dps", IdentifyNamespace::protectionSettings);
    m.put("nmic", IdentifyNamespace::multipathCapabilities);
    m.put("rescap", IdentifyNamespace::reservationCapabilities);
    m.put("fpi", IdentifyNamespace::formatProgress);
    m.put("dlfeat", IdentifyNamespace::deallocateFeatures);
    m.put("nawun", IdentifyNamespace::atomicWriteUnitNormal);
    m.put("nawupf", IdentifyNamespace::atomicWriteUnitPowerFail);
    m.put("nacwu", IdentifyNamespace::atomicCompareWriteUnit);
    m.put("nabsn", IdentifyNamespace::atomicBoundarySizeNormal);
    m.put("nabo", IdentifyNamespace::atomicBoundaryOffset);
    m.put("nabspf", IdentifyNamespace::atomicBoundarySizePowerFail);
    m.put("noiob", IdentifyNamespace::optimalIoBoundary);
    m.put("nvmcap", IdentifyNamespace::nvmCapacity);
    m.put("mssrl", IdentifyNamespace::maxSingleSourceRangeLength);
    m.put("mcl", IdentifyNamespace::maxCopyLength);
    m.put("msrc", IdentifyNamespace::maxSourceRangeCount);
    m.put("anagrpid", IdentifyNamespace::anaGroupId);
    m.put("nsattr", IdentifyNamespace::attributes);
    m.put("nvmsetid", IdentifyNamespace::nvmSetId);
    m.put("endgid", IdentifyNamespace::enduranceGroupId);
    m.put("nguid", IdentifyNamespace::nguid);
    m.put("eui64", IdentifyNamespace::eui64);
    return m;
  }
}
