package dev.upcie.pci;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Vendor, device and subsystem names from the PCI ID database ({@code pci.ids}, the file lspci
 * reads), where one is installed. Names are looked up in the file's text without parsing all of it,
 * since a listing needs a handful of its 30,000 lines.
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

  /** The file's text up to the class section; names live before it. */
  private final String text;

  private PciIds(String text) {
    this.text = text;
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
    try {
      String text = new String(Files.readAllBytes(file), StandardCharsets.UTF_8);
      int classes = text.indexOf("\nC ");
      return new PciIds("\n" + (classes < 0 ? text : text.substring(0, classes + 1)));
    } catch (IOException | RuntimeException e) {
      return NONE;
    }
  }

  /** The vendor's name: {@code Red Hat, Inc.} for 1b36. */
  public Optional<String> vendor(int vendor) {
    return Optional.ofNullable(name(text, 0, text.length(), "\n" + hex(vendor) + "  "));
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
    int device = text.indexOf("\n\t" + hex(id.device()) + "  ", block[0]);
    if (device < 0 || device >= block[1]) {
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

  /** Where {@code vendor}'s lines are: from its line to the next vendor's. */
  private int[] vendorBlock(int vendor) {
    int start = text.indexOf("\n" + hex(vendor) + "  ");
    if (start < 0) {
      return null;
    }
    return new int[] {start, nextLineNotStartingWith(start + 1, "\t", text.length())};
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

  private static String name(String text, int from, int to, String key) {
    int at = text.indexOf(key, from);
    if (at < 0 || at >= to) {
      return null;
    }
    int start = at + key.length();
    int end = text.indexOf('\n', start);
    return text.substring(start, end < 0 ? text.length() : end).strip();
  }

  private static String hex(int value) {
    return String.format("%04x", value);
  }
}
