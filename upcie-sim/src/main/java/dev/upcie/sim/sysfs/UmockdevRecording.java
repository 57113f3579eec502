package dev.upcie.sim.sysfs;

import dev.upcie.support.UpcieException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Reads the text recordings of sysfs devices that {@code umockdev-record} writes and {@code
 * umockdev-run -d} loads, so that real machines' trees can stand in for hand-written ones.
 *
 * <p>Each device is a paragraph; paragraphs are separated by one or more blank lines. A paragraph
 * starts with its {@code P:} line; every line is a type letter, a colon, a space and the value:
 *
 * <pre>
 * P: /devices/pci0000:00/0000:00:05.0
 * E: PCI_SLOT_NAME=0000:00:05.0
 * E: SUBSYSTEM=pci
 * A: vendor=0x1b36\n
 * A: power/control=on\n
 * H: config=361B1000070110000208010800000000...
 * L: driver=../../../bus/pci/drivers/nvme
 * N: nvme0
 * S: disk/by-id/nvme-upcie-sim-0001
 *
 * P: /devices/pci0000:00/0000:00:06.0
 * ...
 * </pre>
 *
 * <table>
 *   <caption>line types</caption>
 *   <tr><th>line</th><th>meaning</th></tr>
 *   <tr><td>{@code P: PATH}</td><td>the device's path under {@code /sys}; starts with {@code
 *       /devices/}; exactly once, first</td></tr>
 *   <tr><td>{@code E: KEY=VALUE}</td><td>a uevent property; {@code SUBSYSTEM} is required</td></tr>
 *   <tr><td>{@code A: NAME=TEXT}</td><td>a text attribute, with GLib's C-style escapes ({@code \n
 *       \t \r \b \f \v \\ \"} and octal {@code \ooo}); never spans lines</td></tr>
 *   <tr><td>{@code H: NAME=HEX}</td><td>a binary attribute as a continuous hex string</td></tr>
 *   <tr><td>{@code L: NAME=TARGET}</td><td>a symlink in the device directory, target as
 *       recorded (relative)</td></tr>
 *   <tr><td>{@code N: NAME[=HEX]}</td><td>the device node under {@code /dev}, optionally with its
 *       contents in upper-case hex</td></tr>
 *   <tr><td>{@code S: NAME}</td><td>a symlink to the device node, under {@code /dev}</td></tr>
 * </table>
 *
 * <p>This follows {@code add_from_string} in umockdev's {@code src/umockdev.vala} and the writer in
 * {@code src/umockdev-record.vala}. What umockdev rejects is rejected here too (a blank line before
 * the first device, a line without {@code ": "}, odd-length hex, lower-case hex in {@code N:}, a
 * device without {@code SUBSYSTEM}). What umockdev would silently mangle is rejected as well, since
 * {@code umockdev-record} never writes it: an unknown escape such as {@code \q} (GLib keeps the
 * {@code q}), an octal escape of 0 (it cuts the value) or above {@code \377} (it wraps), a trailing
 * backslash, non-hex digits in {@code H:}, a name given twice (the last one would win), a path with
 * {@code .} or {@code ..} segments, carriage returns and NUL characters. So a file that loads here
 * also loads in {@code umockdev-run}, with the same meaning.
 *
 * <p>{@code E: __DEVCONTEXT=...} is the SELinux label umockdev puts on the device node, not a
 * uevent property: it is left out of {@link RecordedDevice#properties()}.
 *
 * <p>Errors are {@link UpcieException}s that say {@code FILE:LINE: what is wrong}.
 */
final class UmockdevRecording {
  private static final String TYPES = "P: E: A: H: L: N: S:";
  // umockdev keeps this E: line for the device node's label, out of the uevent file.
  private static final String SELINUX_CONTEXT = "__DEVCONTEXT";

  private UmockdevRecording() {}

  /**
   * One device of a recording: its sysfs path and what was recorded of it. The maps keep the file's
   * order and cannot be modified; byte arrays are copied in and out, and {@code equals} compares
   * their contents.
   *
   * @param path the device's path under {@code /sys}, as on its {@code P:} line ({@code
   *     /devices/pci0000:00/0000:00:05.0})
   * @param properties the {@code E:} lines, the device's uevent properties
   * @param attributes the {@code A:} lines unescaped and the {@code H:} lines decoded, keyed by the
   *     path relative to the device directory ({@code power/control})
   * @param links the {@code L:} lines: name relative to the device directory to target as recorded
   *     ({@code driver} to {@code ../../../bus/pci/drivers/nvme})
   * @param node the {@code N:} and {@code S:} lines, if the device has a node under {@code /dev}
   */
  record RecordedDevice(
      String path,
      Map<String, String> properties,
      Map<String, byte[]> attributes,
      Map<String, String> links,
      Optional<DeviceNode> node) {
    RecordedDevice {
      Objects.requireNonNull(path, "path");
      properties = Collections.unmodifiableMap(new LinkedHashMap<>(properties));
      attributes = copy(attributes);
      links = Collections.unmodifiableMap(new LinkedHashMap<>(links));
      Objects.requireNonNull(node, "node");
    }

    /** The attributes; the arrays are copies, so callers cannot change this device. */
    @Override
    public Map<String, byte[]> attributes() {
      return copy(attributes);
    }

    /** One attribute's bytes (a copy), if it was recorded. */
    Optional<byte[]> attribute(String name) {
      return Optional.ofNullable(attributes.get(name)).map(byte[]::clone);
    }

    /** The device's uevent {@code SUBSYSTEM}, which every recorded device has. */
    String subsystem() {
      return properties.get("SUBSYSTEM");
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof RecordedDevice that
          && path.equals(that.path)
          && properties.equals(that.properties)
          && sameBytes(attributes, that.attributes)
          && links.equals(that.links)
          && node.equals(that.node);
    }

    @Override
    public int hashCode() {
      int bytes = 0;
      for (Map.Entry<String, byte[]> e : attributes.entrySet()) {
        bytes += e.getKey().hashCode() ^ Arrays.hashCode(e.getValue());
      }
      return Objects.hash(path, properties, bytes, links, node);
    }

    /** Names and counts, not the values: a device has some 50 attributes and 4 KiB of config. */
    @Override
    public String toString() {
      return "RecordedDevice["
          + path
          + ", "
          + properties.size()
          + " properties, "
          + attributes.size()
          + " attributes, "
          + links.size()
          + " links"
          + node.map(n -> ", node " + n.name()).orElse("")
          + "]";
    }

    private static Map<String, byte[]> copy(Map<String, byte[]> attributes) {
      Map<String, byte[]> copy = new LinkedHashMap<>();
      attributes.forEach((name, bytes) -> copy.put(name, bytes.clone()));
      return Collections.unmodifiableMap(copy);
    }

    private static boolean sameBytes(Map<String, byte[]> a, Map<String, byte[]> b) {
      if (!a.keySet().equals(b.keySet())) {
        return false;
      }
      for (Map.Entry<String, byte[]> e : a.entrySet()) {
        if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) {
          return false;
        }
      }
      return true;
    }
  }

  /**
   * A device's node under {@code /dev}. umockdev makes it a file with {@code contents} when there
   * are any (and for block and USB devices), else a pty.
   *
   * @param name the {@code N:} name, relative to {@code /dev} ({@code vfio/5})
   * @param contents the {@code N:} line's hex contents decoded; empty if it had none
   * @param links the {@code S:} lines: symlinks to the node, relative to {@code /dev}
   */
  record DeviceNode(String name, byte[] contents, List<String> links) {
    DeviceNode {
      Objects.requireNonNull(name, "name");
      contents = contents.clone();
      links = List.copyOf(links);
    }

    /** A copy of the contents. */
    @Override
    public byte[] contents() {
      return contents.clone();
    }

    @Override
    public boolean equals(Object other) {
      return other instanceof DeviceNode that
          && name.equals(that.name)
          && Arrays.equals(contents, that.contents)
          && links.equals(that.links);
    }

    @Override
    public int hashCode() {
      return Objects.hash(name, Arrays.hashCode(contents), links);
    }

    @Override
    public String toString() {
      return "DeviceNode[" + name + ", " + contents.length + " bytes, links=" + links + "]";
    }
  }

  /**
   * Reads a recording file (UTF-8; {@code umockdev-record} writes ASCII).
   *
   * @throws UpcieException if the file cannot be read or is not a valid recording, naming the file
   *     and line
   */
  static List<RecordedDevice> read(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UpcieException("cannot read the umockdev recording " + file + ": " + e, e);
    }
    return parse(file.toString(), decode(file.toString(), bytes));
  }

  /**
   * Parses the text of a recording.
   *
   * @param name the file name, for error messages
   * @throws UpcieException if the text is not a valid recording, naming {@code name} and the line
   */
  static List<RecordedDevice> parse(String name, String text) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(text, "text");
    return new Parser(name).parse(text);
  }

  private static String decode(String name, byte[] bytes) {
    // Strict decoding, so a stray Latin-1 byte is reported with its line instead of becoming
    // U+FFFD.
    CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
    ByteBuffer in = ByteBuffer.wrap(bytes);
    CharBuffer out = CharBuffer.allocate(bytes.length);
    CoderResult result = decoder.decode(in, out, true);
    if (result.isError()) {
      int line = 1;
      for (int i = 0; i < in.position(); i++) {
        if (bytes[i] == '\n') {
          line++;
        }
      }
      throw new UpcieException(
          name + ":" + line + ": not UTF-8 text (at byte offset " + in.position() + ")");
    }
    decoder.flush(out);
    return out.flip().toString();
  }

  /** One pass over the lines; state is the device being read. */
  private static final class Parser {
    private final String name;
    private final List<RecordedDevice> devices = new ArrayList<>();
    private final Map<String, Integer> pathLines = new HashMap<>();
    private int line;
    private Device device;

    Parser(String name) {
      this.name = name;
    }

    List<RecordedDevice> parse(String text) {
      if (text.isEmpty()) {
        return List.of(); // umockdev loads an empty file as no devices
      }
      String[] lines = text.split("\n", -1);
      // A final newline ends the last line; it does not start an empty one.
      int count = text.endsWith("\n") ? lines.length - 1 : lines.length;
      for (int i = 0; i < count; i++) {
        line = i + 1;
        parseLine(lines[i]);
      }
      if (device != null) {
        finish();
      }
      return List.copyOf(devices);
    }

    private void parseLine(String text) {
      if (text.isEmpty()) {
        if (device != null) {
          finish();
        } else if (devices.isEmpty()) {
          throw error("a blank line before the first device (the file must start with a P: line)");
        }
        return;
      }
      int bad = firstBadChar(text);
      if (bad >= 0) {
        throw error(
            (text.charAt(bad) == '\r' ? "a carriage return (CRLF line ends?)" : "a NUL character")
                + " at column "
                + (bad + 1));
      }
      if (text.length() < 3 || text.charAt(1) != ':' || text.charAt(2) != ' ') {
        throw error(
            "expected a type letter, a colon and a space (one of "
                + TYPES
                + "), found "
                + quote(text));
      }
      char type = text.charAt(0);
      String value = text.substring(3);
      if (type == 'P') {
        startDevice(value);
        return;
      }
      if ("EAHLNS".indexOf(type) < 0) {
        throw error("unknown line type \"" + type + ":\" (umockdev knows " + TYPES + ")");
      }
      if (device == null) {
        throw error("an " + type + ": line outside a device (expected a P: line first)");
      }
      switch (type) {
        case 'E' -> property(value);
        case 'A' -> {
          String[] kv = keyValue(type, value, true);
          attribute(kv[0], unescape(kv[0], kv[1]));
        }
        case 'H' -> {
          String[] kv = keyValue(type, value, true);
          attribute(kv[0], hex(kv[0], kv[1]));
        }
        case 'L' -> {
          String[] kv = keyValue(type, value, true);
          if (kv[1].isEmpty()) {
            throw error("the L: line for \"" + kv[0] + "\" has no target after '='");
          }
          claim(kv[0]);
          device.links.put(kv[0], kv[1]);
        }
        case 'N' -> node(value);
        case 'S' -> {
          relative("S: node link", value);
          device.nodeLinks.add(value);
        }
        default -> throw new AssertionError(type);
      }
    }

    private void attribute(String name, byte[] bytes) {
      claim(name);
      device.attributes.put(name, bytes);
    }

    private void claim(String name) {
      Integer earlier = device.nameLines.putIfAbsent(name, line);
      if (earlier != null) {
        throw error(name + " was already recorded on line " + earlier);
      }
    }

    private void startDevice(String path) {
      if (device != null) {
        throw error(
            "a second P: line in the description of "
                + device.path
                + " (line "
                + device.line
                + "); devices are separated by a blank line");
      }
      if (!path.startsWith("/devices/")) {
        throw error("the device path " + quote(path) + " does not start with /devices/");
      }
      relative("device path", path.substring("/devices/".length()));
      Integer earlier = pathLines.putIfAbsent(path, line);
      if (earlier != null) {
        throw error(path + " was already described on line " + earlier);
      }
      device = new Device(path, line);
    }

    private void property(String value) {
      String[] kv = keyValue('E', value, false);
      if (kv[0].equals(SELINUX_CONTEXT)) {
        if (device.selinuxContextLine != 0) {
          throw error("a second " + SELINUX_CONTEXT + " (line " + device.selinuxContextLine + ")");
        }
        device.selinuxContextLine = line;
        return;
      }
      Integer earlier = device.propertyLines.putIfAbsent(kv[0], line);
      if (earlier != null) {
        throw error("the property " + kv[0] + " was already set on line " + earlier);
      }
      device.properties.put(kv[0], kv[1]);
    }

    private void node(String value) {
      if (device.nodeLine != 0) {
        throw error("a second N: line (the first is on line " + device.nodeLine + ")");
      }
      int eq = value.indexOf('=');
      String node = eq < 0 ? value : value.substring(0, eq);
      relative("N: device node", node);
      byte[] contents = new byte[0];
      if (eq >= 0) {
        String digits = value.substring(eq + 1);
        // umockdev's pattern for N: is [0-9A-F]+: anything else fails the whole line there.
        if (digits.isEmpty() || !digits.chars().allMatch(c -> isDigit(c) || c >= 'A' && c <= 'F')) {
          throw error(
              "the contents of the node "
                  + node
                  + " must be upper-case hex digits after '=', found "
                  + quote(digits));
        }
        contents = hex(node, digits);
      }
      device.nodeLine = line;
      device.node = node;
      device.nodeContents = contents;
    }

    private void finish() {
      if (!device.properties.containsKey("SUBSYSTEM")) {
        line = device.line;
        throw error(
            "the device "
                + device.path
                + " has no E: SUBSYSTEM= line (umockdev needs it to link the device under"
                + " /sys/bus or /sys/class)");
      }
      if (device.node == null && !device.nodeLinks.isEmpty()) {
        line = device.line;
        throw error("the device " + device.path + " has S: lines but no N: line for them to name");
      }
      Optional<DeviceNode> node =
          device.node == null
              ? Optional.empty()
              : Optional.of(new DeviceNode(device.node, device.nodeContents, device.nodeLinks));
      devices.add(
          new RecordedDevice(
              device.path, device.properties, device.attributes, device.links, node));
      device = null;
    }

    /** Splits {@code KEY=VALUE} at the first '=', as umockdev's {@code ([^=\n]+)=(.*)}. */
    private String[] keyValue(char type, String value, boolean pathKey) {
      int eq = value.indexOf('=');
      if (eq < 0) {
        throw error("expected NAME=VALUE after \"" + type + ": \", found " + quote(value));
      }
      if (eq == 0) {
        throw error("an empty name before '=' in the " + type + ": line");
      }
      String key = value.substring(0, eq);
      if (pathKey) {
        relative(type + ": name", key);
      }
      return new String[] {key, value.substring(eq + 1)};
    }

    /**
     * Reverses GLib's {@code g_strescape}, which {@code umockdev-record} applies to text attributes
     * and umockdev undoes with {@code g_strcompress}.
     */
    private byte[] unescape(String attribute, String value) {
      ByteArrayOutputStream out = new ByteArrayOutputStream(value.length());
      int i = 0;
      while (i < value.length()) {
        int backslash = value.indexOf('\\', i);
        if (backslash < 0) {
          backslash = value.length();
        }
        out.writeBytes(value.substring(i, backslash).getBytes(StandardCharsets.UTF_8));
        i = backslash;
        if (i == value.length()) {
          break;
        }
        if (i + 1 == value.length()) {
          throw error("a backslash at the end of the value of " + attribute + " (write \\\\)");
        }
        char escape = value.charAt(i + 1);
        int simple = simpleEscape(escape);
        if (simple >= 0) {
          out.write(simple);
          i += 2;
        } else if (escape >= '0' && escape <= '7') {
          // One to three octal digits, as g_strcompress reads them.
          int end = i + 1;
          int code = 0;
          while (end < value.length() && end < i + 4 && isOctal(value.charAt(end))) {
            code = code * 8 + value.charAt(end) - '0';
            end++;
          }
          String text = value.substring(i, end);
          if (code == 0) {
            throw error(
                "the escape "
                    + text
                    + " in the value of "
                    + attribute
                    + " is a NUL byte, which would end the value there (record binary values"
                    + " as H:)");
          }
          if (code > 0377) {
            throw error(
                "the octal escape " + text + " in the value of " + attribute + " is above \\377");
          }
          out.write(code);
          i = end;
        } else {
          throw error(
              "an unknown escape \\"
                  + escape
                  + " in the value of "
                  + attribute
                  + " (the escapes are \\n \\t \\r \\b \\f \\v \\\\ \\\" and octal \\ooo)");
        }
      }
      return out.toByteArray();
    }

    private static int simpleEscape(char c) {
      return switch (c) {
        case 'n' -> '\n';
        case 't' -> '\t';
        case 'r' -> '\r';
        case 'b' -> '\b';
        case 'f' -> '\f';
        case 'v' -> 0x0b;
        case '\\' -> '\\';
        case '"' -> '"';
        default -> -1;
      };
    }

    private byte[] hex(String attribute, String digits) {
      if (digits.length() % 2 != 0) {
        throw error(
            "an odd number of hex digits ("
                + digits.length()
                + ") in the value of "
                + attribute
                + "; each byte is two digits");
      }
      byte[] bytes = new byte[digits.length() / 2];
      for (int i = 0; i < digits.length(); i++) {
        int digit = hexDigit(digits.charAt(i));
        if (digit < 0) {
          throw error(
              quote(String.valueOf(digits.charAt(i)))
                  + " at position "
                  + (i + 1)
                  + " of the value of "
                  + attribute
                  + " is not a hex digit");
        }
        bytes[i / 2] = (byte) (bytes[i / 2] << 4 | digit);
      }
      return bytes;
    }

    /** A path that stays where it is put: no leading '/', no empty, "." or ".." segments. */
    private void relative(String what, String path) {
      if (path.isEmpty()) {
        throw error("an empty " + what);
      }
      for (String segment : path.split("/", -1)) {
        if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
          throw error(
              "the "
                  + what
                  + " "
                  + quote(path)
                  + " has an empty, \".\" or \"..\" segment; it must name a place below its"
                  + " directory");
        }
      }
    }

    private static int firstBadChar(String text) {
      // umockdev reads C strings (a NUL ends the file there); a CR would end up in the values.
      for (int i = 0; i < text.length(); i++) {
        if (text.charAt(i) == '\0' || text.charAt(i) == '\r') {
          return i;
        }
      }
      return -1;
    }

    private static int hexDigit(char c) {
      if (c >= '0' && c <= '9') {
        return c - '0';
      }
      if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
      }
      return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    }

    private static boolean isOctal(char c) {
      return c >= '0' && c <= '7';
    }

    private static boolean isDigit(int c) {
      return c >= '0' && c <= '9';
    }

    private static String quote(String text) {
      return "\"" + (text.length() > 60 ? text.substring(0, 57) + "..." : text) + "\"";
    }

    private UpcieException error(String what) {
      return new UpcieException(name + ":" + line + ": " + what);
    }
  }

  /** The lines read so far of one device. */
  private static final class Device {
    final String path;
    final int line;
    final Map<String, String> properties = new LinkedHashMap<>();
    final Map<String, Integer> propertyLines = new HashMap<>();
    final Map<String, byte[]> attributes = new LinkedHashMap<>();
    final Map<String, String> links = new LinkedHashMap<>();
    // Attributes and links are files of one directory: a name may be used once across both.
    final Map<String, Integer> nameLines = new HashMap<>();
    final List<String> nodeLinks = new ArrayList<>();
    String node;
    byte[] nodeContents;
    int nodeLine;
    int selinuxContextLine;

    Device(String path, int line) {
      this.path = path;
      this.line = line;
    }
  }
}
