package dev.upcie.pci;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Vendor, device and subsystem names from the PCI ID database ({@code pci.ids}, the file lspci
 * reads), where one is installed. Names are looked up in the file's text without parsing all of it,
 * since a listing needs a handful of its 30,000 lines: a vendor's line by a binary search (the file
 * lists vendors in order of id), its devices and subsystems in the lines that follow it. A listing
 * is one short command, so what counts is the cost of the first few lookups in a fresh JVM.
 *
 * <pre>{@code
 * PciIds ids = PciIds.system(); // empty where no pci.ids is installed
 * String name = ids.device(function.id()).orElse("?"); // "QEMU NVM Express Controller"
 * }</pre>
 */
public final class PciIds {
  /** Where distributions install the database, in the order lspci looks. */
  public static final List<Path> LOCATIONS =
      List.of(
          Path.of("/usr/share/misc/pci.ids"),
          Path.of("/usr/share/hwdata/pci.ids"),
          Path.of("/usr/share/pci.ids"));

  private static final PciIds NONE = new PciIds("");

  /**
   * The file's bytes after a newline, as ISO 8859-1 text: one char per byte, so no decoding cost
   * ({@link #name} decodes the UTF-8 of the one it returns).
   */
  private final String text;

  /**
   * Where names end: the class section, at the end of the file (found from there), whose lines are
   * never taken for a vendor's, a device's or a subsystem's.
   */
  private final int end;

  /** {@link #vendorBlock}'s, by vendor id; empty for a vendor the file does not list. */
  private final Map<Integer, int[]> blocks = new ConcurrentHashMap<>();

  private PciIds(String text) {
    this.text = text;
    int classes = text.lastIndexOf("\nC ");
    this.end = classes < 0 ? text.length() : classes + 1;
  }

  /** The first database of {@link #LOCATIONS} that exists, or none (every lookup empty). */
  public static PciIds system() {
    for (Path location : LOCATIONS) {
      if (Files.isReadable(location)) {
        return load(location);
      }
    }
    return NONE;
  }

  /** A database that names nothing. */
  public static PciIds none() {
    return NONE;
  }

  /**
   * The database in {@code file}; none if it cannot be read (names are a courtesy, never a reason
   * to fail a listing).
   */
  public static PciIds load(Path file) {
    // Read into one array, a few pages at a time: Files.readAllBytes would also fill a native
    // buffer the size of the file (1.3 MB), and every page first touched costs start-up time.
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = new byte[1 + Math.toIntExact(Files.size(file))];
      bytes[0] = '\n';
      int length = 1;
      int read;
      while (length < bytes.length
          && (read = in.read(bytes, length, Math.min(8192, bytes.length - length))) > 0) {
        length += read;
      }
      return new PciIds(new String(bytes, 0, length, StandardCharsets.ISO_8859_1));
    } catch (IOException | RuntimeException e) {
      return NONE;
    }
  }

  /** The vendor's name: {@code Red Hat, Inc.} for 1b36. */
  public Optional<String> vendor(int vendor) {
    int[] block = vendorBlock(vendor);
    return block == null
        ? Optional.empty()
        : Optional.ofNullable(name(text, block[0], block[1], "\n" + hex(vendor) + "  "));
  }

  /** The device's name: {@code QEMU NVM Express Controller} for 1b36:0010. */
  public Optional<String> device(PciId id) {
    int[] block = vendorBlock(id.vendor());
    return block == null
        ? Optional.empty()
        : Optional.ofNullable(name(text, block[0], block[1], "\n\t" + hex(id.device()) + "  "));
  }

  /**
   * The subsystem's name, as listed under the device ({@code subsystem} is the subsystem vendor and
   * device).
   */
  public Optional<String> subsystem(PciId id, PciId subsystem) {
    int[] block = vendorBlock(id.vendor());
    if (block == null) {
      return Optional.empty();
    }
    int device = text.indexOf("\n\t" + hex(id.device()) + "  ", block[0], block[1]);
    if (device < 0) {
      return Optional.empty();
    }
    int end = nextLineNotStartingWith(device + 1, "\t\t", block[1]);
    return Optional.ofNullable(
        name(
            text,
            device,
            end,
            "\n\t\t" + hex(subsystem.vendor()) + " " + hex(subsystem.device()) + "  "));
  }

  /**
   * Where {@code vendor}'s lines are: from its line to the next vendor's; null if it has none. Kept
   * per vendor, since a listing asks about the same few vendors three times per function.
   */
  private int[] vendorBlock(int vendor) {
    int[] block = blocks.computeIfAbsent(vendor, this::findVendorBlock);
    return block.length == 0 ? null : block;
  }

  private int[] findVendorBlock(int vendor) {
    int start = vendorLine(vendor);
    if (start < 0) {
      return new int[0];
    }
    return new int[] {start, nextLineNotStartingWith(start + 1, "\t", end)};
  }

  /**
   * The offset of the newline that starts {@code vendor}'s line, or -1. A binary search over the
   * vendor lines, which pci.ids keeps in order of id, reads a few lines a step where a search of
   * the text would read up to all of it for each lookup; a miss (an unknown vendor, or a file out
   * of order) is confirmed by that search.
   */
  private int vendorLine(int vendor) {
    int low = 0;
    int high = end;
    while (low < high) {
      int middle = (low + high) >>> 1;
      int line = vendorLineFrom(middle, high);
      if (line < 0) {
        high = middle;
        continue;
      }
      int id = Integer.parseInt(text, line + 1, line + 5, 16);
      if (id == vendor) {
        return line;
      }
      if (id < vendor) {
        low = line + 1;
      } else {
        high = middle;
      }
    }
    int at = text.indexOf("\n" + hex(vendor) + "  ");
    return at < end ? at : -1;
  }

  /** The offset of the first vendor line's newline in [from, limit), or -1. */
  private int vendorLineFrom(int from, int limit) {
    int at = text.indexOf('\n', from);
    while (at >= 0 && at < limit) {
      if (isVendorLine(at)) {
        return at;
      }
      at = text.indexOf('\n', at + 1);
    }
    return -1;
  }

  /**
   * True if the line after the newline at {@code at} is a vendor's: four hex digits, two spaces.
   */
  private boolean isVendorLine(int at) {
    if (at + 7 > end || text.charAt(at + 5) != ' ' || text.charAt(at + 6) != ' ') {
      return false;
    }
    for (int i = at + 1; i <= at + 4; i++) {
      if (Character.digit(text.charAt(i), 16) < 0) {
        return false;
      }
    }
    return true;
  }

  /** The offset of the first line after {@code from}'s that starts with neither prefix nor '#'. */
  private int nextLineNotStartingWith(int from, String prefix, int limit) {
    int at = text.indexOf('\n', from);
    while (at >= 0 && at < limit) {
      if (!text.startsWith(prefix, at + 1) && !text.startsWith("#", at + 1)) {
        return at;
      }
      at = text.indexOf('\n', at + 1);
    }
    return limit;
  }

  /**
   * The name on the line that starts with {@code key} in [from, to), or null. The search stops at
   * {@code to}: a name the block does not list would otherwise cost a search of the rest of the
   * file.
   */
  private static String name(String text, int from, int to, String key) {
    int at = text.indexOf(key, from, to);
    if (at < 0) {
      return null;
    }
    int start = at + key.length();
    int end = text.indexOf('\n', start);
    String latin1 = text.substring(start, end < 0 ? text.length() : end).strip();
    return new String(latin1.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8);
  }

  /** Four hex digits, as pci.ids writes ids (String.format costs more in a fresh JVM). */
  private static String hex(int value) {
    String digits = Integer.toHexString(value);
    return "0000".substring(Math.min(digits.length(), 4)) + digits;
  }
}
