package dev.upcie.it.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.upcie.it.device.NvmeLayout;
import dev.upcie.it.device.SimulatedIdentify;
import dev.upcie.sim.nvme.NvmeOptions;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * nvme-cli 2.3 as an independent oracle for the simulated controller's Identify data: in the VFIO
 * guest, while the kernel's {@code nvme} driver still holds QEMU's controller, {@code nvme id-ctrl}
 * and {@code nvme id-ns} print QEMU's Identify data as JSON; on the host each printed field is
 * compared with the same field of the model's bytes, rendered as nvme-cli renders it. Neither the
 * kernel, nvme-cli nor libnvme shares code with the model, so agreement is evidence, not an echo.
 *
 * <p>The tables list every field nvme-cli 2.3 prints, in its order ({@code json_nvme_id_ctrl} and
 * {@code json_nvme_id_ns} in {@code nvme-print.c}); offsets and sizes are those of libnvme 1.3's
 * {@code struct nvme_id_ctrl}, {@code nvme_id_psd}, {@code nvme_id_ns} and {@code nvme_lbaf}
 * ({@code src/nvme/types.h}), the NVMe base specification's layouts. A field nvme-cli prints that
 * the tables lack is itself a difference, so a newer nvme-cli cannot pass unchecked.
 */
final class NvmeCliIdentify {
  /** Where in the guest's results directory nvme-cli's output goes. */
  static final String DIRECTORY = "nvme-cli";

  /** Written instead of (or beside) the JSON when the guest could not run nvme-cli: why. */
  static final String ERROR_FILE = "error";

  /**
   * Fields QEMU and the model may legitimately disagree on, keyed {@code "command field"} (as
   * {@code "id-ctrl fr"} or {@code "id-ctrl psds.max_power"}), with why: none. Identify data holds
   * nothing time-dependent or host-specific the model cannot match (the serial is the one QEMU was
   * started with).
   */
  static final Map<String, String> LEGITIMATE_DIFFERENCES = Map.of();

  /** The directories the guest script's PATH searches for {@code nvme}. */
  private static final List<String> PATH = List.of("/usr/sbin", "/usr/bin", "/sbin", "/bin");

  /** Identify Controller as {@code nvme id-ctrl -o json} prints it (no vendor-specific part). */
  static final Structure CONTROLLER =
      new Structure(
          "id-ctrl",
          List.of(
              number("vid", 0, 2),
              number("ssvid", 2, 2),
              string("sn", 4, 20),
              string("mn", 24, 40),
              string("fr", 64, 8),
              number("rab", 72, 1),
              number("ieee", 73, 3), // printed as ieee[2] << 16 | ieee[1] << 8 | ieee[0]
              number("cmic", 76, 1),
              number("mdts", 77, 1),
              number("cntlid", 78, 2),
              number("ver", 80, 4),
              number("rtd3r", 84, 4),
              number("rtd3e", 88, 4),
              number("oaes", 92, 4),
              number("ctratt", 96, 4),
              number("rrls", 100, 2),
              number("cntrltype", 111, 1),
              new Field("fguid", 112, 16, Kind.UUID),
              number("crdt1", 128, 2),
              number("crdt2", 130, 2),
              number("crdt3", 132, 2),
              number("nvmsr", 253, 1),
              number("vwci", 254, 1),
              number("mec", 255, 1),
              number("oacs", 256, 2),
              number("acl", 258, 1),
              number("aerl", 259, 1),
              number("frmw", 260, 1),
              number("lpa", 261, 1),
              number("elpe", 262, 1),
              number("npss", 263, 1),
              number("avscc", 264, 1),
              number("apsta", 265, 1),
              number("wctemp", 266, 2),
              number("cctemp", 268, 2),
              number("mtfa", 270, 2),
              number("hmpre", 272, 4),
              number("hmmin", 276, 4),
              number("tnvmcap", 280, 16),
              number("unvmcap", 296, 16),
              number("rpmbs", 312, 4),
              number("edstt", 316, 2),
              number("dsto", 318, 1),
              number("fwug", 319, 1),
              number("kas", 320, 2),
              number("hctma", 322, 2),
              number("mntmt", 324, 2),
              number("mxtmt", 326, 2),
              number("sanicap", 328, 4),
              number("hmminds", 332, 4),
              number("hmmaxd", 336, 2),
              number("nsetidmax", 338, 2),
              number("endgidmax", 340, 2),
              number("anatt", 342, 1),
              number("anacap", 343, 1),
              number("anagrpmax", 344, 4),
              number("nanagrpid", 348, 4),
              number("pels", 352, 4),
              number("domainid", 356, 2),
              number("megcap", 368, 16),
              number("sqes", 512, 1),
              number("cqes", 513, 1),
              number("maxcmd", 514, 2),
              number("nn", 516, 4),
              number("oncs", 520, 2),
              number("fuses", 522, 2),
              number("fna", 524, 1),
              number("vwc", 525, 1),
              number("awun", 526, 2),
              number("awupf", 528, 2),
              number("icsvscc", 530, 1),
              number("nwpc", 531, 1),
              number("acwu", 532, 2),
              number("ocfs", 534, 2),
              number("sgls", 536, 4),
              number("mnan", 540, 4),
              number("maxdna", 544, 16),
              number("maxcna", 560, 4),
              string("subnqn", 768, 256).when(id -> id.get(768) != 0), // only if not empty
              number("ioccsz", 1792, 4),
              number("iorcsz", 1796, 4),
              number("icdoff", 1800, 2),
              number("fcatt", 1802, 1),
              number("msdbd", 1803, 1),
              number("ofcs", 1804, 2)),
          // Power state descriptors 0 to NPSS.
          new Array(
              "psds",
              2048,
              32,
              263,
              List.of(
                  number("max_power", 0, 2),
                  number("flags", 3, 1),
                  number("entry_lat", 4, 4),
                  number("exit_lat", 8, 4),
                  number("read_tput", 12, 1),
                  number("read_lat", 13, 1),
                  number("write_tput", 14, 1),
                  number("write_lat", 15, 1),
                  number("idle_power", 16, 2),
                  bits("idle_scale", 18, 6, 2), // IPS, bits 7:6
                  number("active_power", 20, 2),
                  bits("active_power_work", 22, 0, 3), // APW, bits 2:0
                  bits("active_scale", 22, 6, 2)))); // APS, bits 7:6

  /** Identify Namespace as {@code nvme id-ns -o json} prints it. */
  static final Structure NAMESPACE =
      new Structure(
          "id-ns",
          List.of(
              number("nsze", 0, 8),
              number("ncap", 8, 8),
              number("nuse", 16, 8),
              number("nsfeat", 24, 1),
              number("nlbaf", 25, 1),
              number("flbas", 26, 1),
              number("mc", 27, 1),
              number("dpc", 28, 1),
              number("dps", 29, 1),
              number("nmic", 30, 1),
              number("rescap", 31, 1),
              number("fpi", 32, 1),
              number("dlfeat", 33, 1),
              number("nawun", 34, 2),
              number("nawupf", 36, 2),
              number("nacwu", 38, 2),
              number("nabsn", 40, 2),
              number("nabo", 42, 2),
              number("nabspf", 44, 2),
              number("noiob", 46, 2),
              number("nvmcap", 48, 16),
              number("nsattr", 99, 1),
              number("nvmsetid", 100, 2),
              // The I/O optimization fields, printed only if NSFEAT bit 4 says they are valid.
              number("npwg", 64, 2).when(NvmeCliIdentify::optimizationFields),
              number("npwa", 66, 2).when(NvmeCliIdentify::optimizationFields),
              number("npdg", 68, 2).when(NvmeCliIdentify::optimizationFields),
              number("npda", 70, 2).when(NvmeCliIdentify::optimizationFields),
              number("nows", 72, 2).when(NvmeCliIdentify::optimizationFields),
              number("mssrl", 74, 2),
              number("mcl", 76, 4),
              number("msrc", 80, 1),
              number("nulbaf", 82, 1),
              number("anagrpid", 92, 4),
              number("endgid", 102, 2),
              new Field("eui64", 120, 8, Kind.HEX),
              new Field("nguid", 104, 16, Kind.HEX)),
          // LBA formats 0 to NLBAF.
          new Array(
              "lbafs",
              128,
              4,
              25,
              List.of(number("ms", 0, 2), number("ds", 2, 1), number("rp", 3, 1))));

  /**
   * What the guest saves for a controller of {@code layout}: each command's JSON, in a file of its
   * own; the controller's, then each namespace's. Namespaces are named by identifier through the
   * controller's device, not by block device: the kernel numbers {@code nvme0nN} in the order its
   * asynchronous scan finishes, and on 6.12 {@code nvme0n1} was once namespace 2.
   */
  static List<Output> outputs(NvmeLayout layout) {
    List<Output> outputs = new ArrayList<>();
    outputs.add(new Output(CONTROLLER, "/dev/nvme0", 0, "id-ctrl.json"));
    for (int nsid : layout.nsids()) {
      outputs.add(
          new Output(
              NAMESPACE, "/dev/nvme0 --namespace-id=" + nsid, nsid, "id-ns-" + nsid + ".json"));
    }
    return outputs;
  }

  private NvmeCliIdentify() {}

  /**
   * The guest's shell commands, run after {@code modprobe nvme} and before any rebinding: wait (60
   * s at most) for the kernel to create the devices, then save each one's Identify data as nvme-cli
   * prints it. Failures do not stop the guest's script; they are written to {@link #ERROR_FILE} for
   * the host-side test to report. Uses {@code $RESULTS}, the guest's results directory.
   */
  static String guestCommands(NvmeLayout layout) {
    StringBuilder reads = new StringBuilder();
    for (Output output : outputs(layout)) {
      reads.append(
          "  nvme_cli_read %s %s %s%n"
              .formatted(output.structure().command(), output.file(), output.device()));
    }
    // The scan is done when every namespace has its block device, whichever number it got.
    List<String> devices = new ArrayList<>(List.of("/dev/nvme0"));
    for (int n = 1; n <= layout.namespaces().size(); n++) {
      devices.add("/dev/nvme0n" + n);
    }
    String allThere =
        devices.stream().map(d -> "[ -e " + d + " ]").collect(Collectors.joining(" && "));
    return """
    # nvme-cli's Identify data through the kernel's nvme driver (NvmeCliIdentify)
    nvme_cli_dir="$RESULTS/%1$s"
    mkdir -p "$nvme_cli_dir"
    # nvme_cli_read COMMAND FILE DEVICE [OPTION]: nvme COMMAND DEVICE [OPTION] -o json > FILE
    nvme_cli_read() {
      subcommand=$1
      file=$2
      shift 2
      rc=0
      nvme "$subcommand" "$@" -o json > "$nvme_cli_dir/$file.tmp" || rc=$?
      if [ "$rc" -eq 0 ]; then
        mv "$nvme_cli_dir/$file.tmp" "$nvme_cli_dir/$file"
      else
        echo "nvme $subcommand $* -o json failed (exit $rc)" >> "$nvme_cli_dir/%2$s"
      fi
    }
    nvme_cli_identify() {
      if ! command -v nvme > /dev/null; then
        echo "nvme-cli is not installed (Debian package nvme-cli; ci/setup installs it)" \\
          > "$nvme_cli_dir/%2$s"
        return
      fi
      deadline=$(( $(date +%%s) + 60 ))
      until %4$s; do
        if [ "$(date +%%s)" -ge "$deadline" ]; then
          echo "%5$s did not all appear within 60 s of" \\
            "modprobe nvme; there were: $(ls /dev/nvme* 2>&1 | tr '\\n' ' ')" \\
            > "$nvme_cli_dir/%2$s"
          return
        fi
        sleep 0.1
      done
      echo "upcie-guest: $(nvme version | head -n 1), reading Identify data" >&2
    %3$s}
    nvme_cli_identify
    if [ -e "$nvme_cli_dir/%2$s" ]; then
      sed 's/^/upcie-guest: nvme-cli: /' "$nvme_cli_dir/%2$s" >&2
    fi
    """
        .formatted(DIRECTORY, ERROR_FILE, reads, allThere, String.join(", ", devices));
  }

  /**
   * Every difference between nvme-cli's output for QEMU in {@code directory} and what it would
   * print for a model of {@code layout} with {@code serial}: see {@link Structure#differences}.
   */
  static List<String> differences(Path directory, NvmeLayout layout, String serial)
      throws IOException {
    NvmeOptions options = layout.options(serial);
    ObjectMapper json = new ObjectMapper();
    List<String> found = new ArrayList<>();
    for (Output output : outputs(layout)) {
      byte[] model =
          output.nsid() == 0
              ? SimulatedIdentify.read(options, SimulatedIdentify.CNS_CONTROLLER, 0)
              : SimulatedIdentify.read(options, SimulatedIdentify.CNS_NAMESPACE, output.nsid());
      JsonNode qemu = json.readTree(directory.resolve(output.file()).toFile());
      found.addAll(output.structure().differences(output.device(), qemu, model));
    }
    return found;
  }

  /** Whether {@code nvme} is installed where the guest script looks for it (the host's root). */
  static boolean installed() {
    return PATH.stream().anyMatch(dir -> Files.isExecutable(Path.of(dir, "nvme")));
  }

  private static boolean optimizationFields(ByteBuffer namespace) {
    return (namespace.get(24) & 0x10) != 0;
  }

  private static Field number(String name, int offset, int size) {
    return new Field(name, offset, size, Kind.NUMBER);
  }

  private static Field bits(String name, int offset, int shift, int width) {
    return new Field(name, offset, 1, Kind.NUMBER, shift, width, id -> true);
  }

  private static Field string(String name, int offset, int size) {
    return new Field(name, offset, size, Kind.STRING);
  }

  /**
   * One nvme-cli command's output: {@code structure} as read through {@code device} (the
   * controller's device, and for namespace {@code nsid} the option naming it; 0 for the
   * controller), saved in {@code file}.
   */
  record Output(Structure structure, String device, int nsid, String file) {}

  /** How nvme-cli prints a field. */
  enum Kind {
    /**
     * An unsigned little-endian number. nvme-cli prints up to 32 bits with {@code
     * json_object_new_int}, so as a C {@code int} (above 2^31 - 1 it wraps negative), 64 bits as an
     * unsigned JSON number, and 128 bits as a decimal string.
     */
    NUMBER,
    /**
     * A character array as {@code snprintf("%-.*s")} copies it: up to the first NUL, spaces kept.
     */
    STRING,
    /** 16 bytes as a UUID: {@code 8-4-4-4-12} lowercase hex digits. */
    UUID,
    /** Bytes as lowercase hex digits, first byte first. */
    HEX
  }

  /**
   * One printed field: {@code size} bytes at {@code offset}; for a number, {@code width} bits from
   * bit {@code shift} if {@code width} is positive; printed only where {@code printed} holds for
   * the whole data structure.
   */
  record Field(
      String name,
      int offset,
      int size,
      Kind kind,
      int shift,
      int width,
      Predicate<ByteBuffer> printed) {
    Field(String name, int offset, int size, Kind kind) {
      this(name, offset, size, kind, 0, 0, id -> true);
    }

    /** The same field, printed only where {@code condition} holds. */
    Field when(Predicate<ByteBuffer> condition) {
      return new Field(name, offset, size, kind, shift, width, condition);
    }

    /** The field's bytes, for messages: {@code byte 77}, {@code bytes 68-69}, {@code bits 7:6}. */
    String position(int base) {
      int at = base + offset;
      String bytes = size == 1 ? "byte " + at : "bytes " + at + "-" + (at + size - 1);
      return width > 0 ? bytes + " bits " + (shift + width - 1) + ":" + shift : bytes;
    }

    /**
     * What nvme-cli would print for this field of {@code data} (the field at {@code base +
     * offset}), as text; empty where it would print nothing.
     */
    Optional<String> render(ByteBuffer data, int base) {
      if (!printed.test(data)) {
        return Optional.empty();
      }
      byte[] bytes = new byte[size];
      data.get(base + offset, bytes);
      return Optional.of(
          switch (kind) {
            case NUMBER -> number(bytes);
            case STRING -> quoted(string(bytes));
            case UUID -> {
              String hex = HexFormat.of().formatHex(bytes);
              yield quoted(
                  String.join(
                      "-",
                      hex.substring(0, 8),
                      hex.substring(8, 12),
                      hex.substring(12, 16),
                      hex.substring(16, 20),
                      hex.substring(20)));
            }
            case HEX -> quoted(HexFormat.of().formatHex(bytes));
          });
    }

    private String number(byte[] littleEndian) {
      byte[] bigEndian = new byte[littleEndian.length];
      for (int i = 0; i < littleEndian.length; i++) {
        bigEndian[i] = littleEndian[littleEndian.length - 1 - i];
      }
      BigInteger value = new BigInteger(1, bigEndian);
      if (width > 0) {
        value =
            value.shiftRight(shift).and(BigInteger.ONE.shiftLeft(width).subtract(BigInteger.ONE));
      }
      return size <= 4 ? Integer.toString(value.intValue()) : value.toString();
    }

    private static String string(byte[] bytes) {
      int end = 0;
      while (end < bytes.length && bytes[end] != 0) {
        end++;
      }
      return new String(bytes, 0, end, StandardCharsets.ISO_8859_1);
    }
  }

  /**
   * An array of structures nvme-cli prints: entries 0 to the 0-based count in the byte at {@code
   * countOffset}, {@code stride} bytes apart from {@code offset}.
   */
  record Array(String name, int offset, int stride, int countOffset, List<Field> elements) {
    int count(ByteBuffer data) {
      return Byte.toUnsignedInt(data.get(countOffset)) + 1;
    }
  }

  /** A data structure as one nvme-cli command prints it: its fields, then one array. */
  record Structure(String command, List<Field> fields, Array array) {
    /**
     * Every difference between what nvme-cli printed for QEMU's {@code device} and what it would
     * print for the model's bytes, one line each (empty if none): a field whose values differ, a
     * field printed for one but not the other, an array of another length, and a field nvme-cli
     * printed that the table lacks. {@link #LEGITIMATE_DIFFERENCES} are left out.
     */
    List<String> differences(String device, JsonNode qemu, byte[] model) {
      ByteBuffer data = ByteBuffer.wrap(model).order(ByteOrder.LITTLE_ENDIAN);
      String label = command + " " + device;
      List<String> found = new ArrayList<>();
      Set<String> known = new LinkedHashSet<>();
      for (Field field : fields) {
        known.add(field.name());
        compare(label, field.name(), field, 0, qemu.get(field.name()), data, found);
      }
      known.add(array.name());
      JsonNode entries = qemu.get(array.name());
      int count = array.count(data);
      if (entries == null || !entries.isArray()) {
        found.add(label + " " + array.name() + ": no array printed for QEMU");
      } else {
        if (entries.size() != count) {
          found.add(
              "%s %s: QEMU %d entries, model %d"
                  .formatted(label, array.name(), entries.size(), count));
        }
        for (int i = 0; i < Math.min(count, entries.size()); i++) {
          JsonNode entry = entries.get(i);
          String prefix = array.name() + "[" + i + "]";
          for (Field field : array.elements()) {
            compare(
                label,
                prefix + "." + field.name(),
                field,
                array.offset() + i * array.stride(),
                entry.get(field.name()),
                data,
                found);
          }
          unknown(label, prefix + ".", entry, array.elements().stream().map(Field::name).toList())
              .forEach(found::add);
        }
      }
      unknown(label, "", qemu, known).forEach(found::add);
      return found;
    }

    private void compare(
        String label,
        String name,
        Field field,
        int base,
        JsonNode qemu,
        ByteBuffer model,
        List<String> found) {
      if (LEGITIMATE_DIFFERENCES.containsKey(command + " " + name.replaceAll("\\[\\d+]", ""))) {
        return;
      }
      Optional<String> expected = field.render(model, base);
      String where = "%s %s (%s)".formatted(label, name, field.position(base));
      if (qemu == null && expected.isPresent()) {
        found.add(where + ": not printed for QEMU, model " + expected.get());
      } else if (qemu != null && expected.isEmpty()) {
        found.add(where + ": QEMU " + text(qemu, field.kind()) + ", not printed for the model");
      } else if (qemu != null && !text(qemu, field.kind()).equals(expected.get())) {
        found.add(where + ": QEMU " + text(qemu, field.kind()) + ", model " + expected.get());
      }
    }

    private static List<String> unknown(
        String label, String prefix, JsonNode object, Collection<String> known) {
      List<String> lines = new ArrayList<>();
      object
          .fieldNames()
          .forEachRemaining(name -> {
            if (!known.contains(name)) {
              lines.add(
                  "%s %s%s: printed by nvme-cli (%s) but not in the field table"
                      .formatted(label, prefix, name, object.get(name)));
            }
          });
      return lines;
    }

    // A printed value as Field.render gives it: a number (a JSON number, or nvme-cli's decimal
    // string for 128 bits) in decimal, anything else quoted.
    private static String text(JsonNode value, Kind kind) {
      if (kind == Kind.NUMBER && value.isIntegralNumber()) {
        return value.bigIntegerValue().toString();
      }
      return value.isTextual()
          ? (kind == Kind.NUMBER ? value.textValue() : quoted(value.textValue()))
          : value.toString();
    }
  }

  private static String quoted(String text) {
    return '"' + text + '"';
  }
}
