package dev.upcie.pci;

import java.util.ArrayList;
import java.util.List;

/**
 * One line of a function's sysfs {@code resource} table: where a BAR (lines 0 to 5), the expansion
 * ROM (6) or a bridge window sits in the machine's address space, and what kind it is.
 *
 * <pre>{@code
 * List<PciResource> table = PciResource.parse(sysfs.read(PciBus.dir(address) + "/resource"));
 * long bar0 = table.get(0).size();
 * }</pre>
 *
 * @param start the first address, 0 where nothing is assigned
 * @param end the last address, 0 where nothing is assigned
 * @param flags the kernel's {@code IORESOURCE_*} flags
 */
public record PciResource(long start, long end, long flags) {
  /** {@code IORESOURCE_IO}: an I/O-port range. */
  public static final long IO = 0x100;

  /** {@code IORESOURCE_MEM}: a memory range. */
  public static final long MEM = 0x200;

  /** An unassigned slot. */
  public static final PciResource NONE = new PciResource(0, 0, 0);

  /**
   * Parses the table, one resource per line ({@code 0x... 0x... 0x...}).
   *
   * @throws PciException naming the line if one is not three hexadecimal numbers
   */
  public static List<PciResource> parse(String table) {
    List<PciResource> resources = new ArrayList<>();
    for (String line : table.lines().toList()) {
      String[] fields = line.trim().split("\\s+");
      if (fields.length != 3) {
        throw new PciException("a resource line has three numbers, not \"" + line + "\"");
      }
      try {
        resources.add(new PciResource(hex(fields[0]), hex(fields[1]), hex(fields[2])));
      } catch (NumberFormatException e) {
        throw new PciException("a resource line has hexadecimal numbers, not \"" + line + "\"");
      }
    }
    return List.copyOf(resources);
  }

  private static long hex(String field) {
    return Long.parseUnsignedLong(field.startsWith("0x") ? field.substring(2) : field, 16);
  }

  /** Its size in bytes, 0 for an unassigned slot. */
  public long size() {
    return start == 0 && end == 0 ? 0 : end - start + 1;
  }

  /** True for a memory range. */
  public boolean isMemory() {
    return (flags & MEM) != 0;
  }

  /** True for an I/O-port range. */
  public boolean isIo() {
    return (flags & IO) != 0;
  }
}
