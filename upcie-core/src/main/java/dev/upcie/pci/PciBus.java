package dev.upcie.pci;

import dev.upcie.errno.Errno;
import dev.upcie.sysfs.Sysfs;
import dev.upcie.sysfs.SysfsException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The PCI functions sysfs knows about, read from {@code bus/pci/devices}.
 *
 * <pre>{@code
 * PciBus bus = new PciBus(Sysfs.system());
 * for (PciFunction f : bus.functions()) {
 *   System.out.println(f.summary() + " " + f.driver().orElse("-"));
 * }
 * List<PciFunction> nvmes = bus.select(PciSelector.any().withClass(PciClassCode.NVME));
 * }</pre>
 */
public final class PciBus {
  /** Where sysfs lists PCI functions, relative to the sysfs root. */
  public static final String DEVICES = "bus/pci/devices";

  /** Where sysfs lists PCI drivers, relative to the sysfs root. */
  public static final String DRIVERS = "bus/pci/drivers";

  private final Sysfs sysfs;

  /** A view of the PCI functions in {@code sysfs}. */
  public PciBus(Sysfs sysfs) {
    this.sysfs = sysfs;
  }

  /** The sysfs this bus reads. */
  public Sysfs sysfs() {
    return sysfs;
  }

  /**
   * Every function, ordered by address. A function removed while this reads is left out; any other
   * trouble with one function is an error ({@link #scan()} reports it and goes on).
   *
   * @throws PciException if the tree has no {@code bus/pci/devices}, or a function's attributes are
   *     malformed
   * @throws SysfsException if an attribute cannot be read
   */
  public List<PciFunction> functions() {
    return read(true).functions();
  }

  /**
   * Every function it can read, and what was wrong with those it could not: a malformed attribute,
   * a function removed while this read it, an attribute it may not read. For listings, which should
   * show the rest and say they are partial.
   *
   * @throws PciException if the tree has no {@code bus/pci/devices}
   */
  public PciScan scan() {
    return read(false);
  }

  /** Reads every function; {@code strict} throws what {@link #scan()} reports (but a removal). */
  private PciScan read(boolean strict) {
    List<PciFunction> functions = new ArrayList<>();
    List<PciScan.Problem> problems = new ArrayList<>();
    for (String name : deviceNames()) {
      if (!PciAddress.isAddress(name)) {
        continue;
      }
      try {
        functions.add(read(PciAddress.parse(name)));
      } catch (SysfsException e) {
        if (vanished(name, e)) {
          problems.add(
              new PciScan.Problem(name, PciScan.Kind.VANISHED, "removed while it was being read"));
        } else if (strict) {
          throw e;
        } else {
          problems.add(
              new PciScan.Problem(
                  name,
                  e.is(Errno.ENOENT) ? PciScan.Kind.MALFORMED : PciScan.Kind.UNREADABLE,
                  e.getMessage()));
        }
      } catch (PciException e) {
        if (strict) {
          throw e;
        }
        problems.add(new PciScan.Problem(name, PciScan.Kind.MALFORMED, e.getMessage()));
      }
    }
    functions.sort((a, b) -> a.address().compareTo(b.address()));
    problems.sort((a, b) -> a.name().compareTo(b.name()));
    return new PciScan(functions, problems);
  }

  /** Whether reading {@code name} failed because the function itself is gone. */
  private boolean vanished(String name, SysfsException e) {
    return e.is(Errno.ENOENT) && !sysfs.exists(DEVICES + "/" + name);
  }

  /** The function at {@code address}, if sysfs has it. */
  public Optional<PciFunction> find(PciAddress address) {
    if (!sysfs.exists(dir(address))) {
      return Optional.empty();
    }
    return Optional.of(read(address));
  }

  /**
   * The function at {@code address}.
   *
   * @throws PciFunctionNotFoundException if there is no such function
   */
  public PciFunction function(PciAddress address) {
    return find(address)
        .orElseThrow(() ->
            new PciFunctionNotFoundException(
                "no PCI function "
                    + address
                    + " in "
                    + sysfs.resolve(DEVICES)
                    + ": check the address with `upcie devbind list`"));
  }

  /** The functions {@code selector} matches, ordered by address. */
  public List<PciFunction> select(PciSelector selector) {
    return functions().stream().filter(selector::matches).toList();
  }

  /**
   * The one function a caller means by {@code selector}: among the matches, the first (by address)
   * bound to {@code preferredDriver}, else the first.
   *
   * <p>The preference keeps a test or tool on the device set aside for it: with two NVMe
   * controllers, one on {@code nvme} holding the root file system and one on {@code vfio-pci}, the
   * class selector picks the second.
   *
   * @throws PciFunctionNotFoundException if nothing matches, listing the functions that are present
   */
  public PciFunction selectOne(PciSelector selector, String preferredDriver) {
    // An address names one function: read only it, unless it is absent or another criterion
    // rules it out, when the whole bus is read for the message.
    Optional<PciFunction> named = selector.address().flatMap(this::find);
    if (named.isPresent() && selector.matches(named.get())) {
      return named.get();
    }
    List<PciFunction> all = functions();
    List<PciFunction> matches = all.stream().filter(selector::matches).toList();
    if (matches.isEmpty()) {
      StringBuilder present = new StringBuilder();
      for (PciFunction f : all) {
        present.append(present.isEmpty() ? "" : "; ").append(f.summary());
      }
      throw new PciFunctionNotFoundException(
          "no PCI function matches "
              + selector
              + " in "
              + sysfs.resolve(DEVICES)
              + (all.isEmpty() ? " (it is empty)" : "; present: " + present));
    }
    return matches.stream()
        .filter(f -> f.isBoundTo(preferredDriver))
        .findFirst()
        .orElse(matches.get(0));
  }

  /**
   * The first function (by address) that {@code selector} matches and that is bound to {@code
   * driver}. Unlike {@link #selectOne}, never settles for a function on another driver: for real
   * devices that could be a disk the host is using.
   *
   * @throws PciFunctionNotFoundException if nothing matches, or no match is bound to {@code
   *     driver}; the message lists the matches and their drivers
   */
  public PciFunction selectBound(PciSelector selector, String driver) {
    PciFunction first = selectOne(selector, driver);
    if (first.isBoundTo(driver)) {
      return first;
    }
    StringBuilder candidates = new StringBuilder();
    for (PciFunction f : select(selector)) {
      candidates
          .append(candidates.isEmpty() ? "" : "; ")
          .append(f.address())
          .append(" on ")
          .append(f.driver().orElse("no driver"));
    }
    throw new PciFunctionNotFoundException(
        "no PCI function matching "
            + selector
            + " is bound to "
            + driver
            + " (candidates: "
            + candidates
            + "); bind the one meant for this use to "
            + driver
            + " first, as root: "
            + bindCommands(first, driver));
  }

  /**
   * The shell commands that bind {@code function} to {@code driver} through this sysfs ({@code
   * driver_override}, unbind, {@code drivers_probe}), for messages that tell a person how.
   */
  public String bindCommands(PciFunction function, String driver) {
    String dir = sysfs.resolve(dir(function.address())).toString();
    String address = function.address().toString();
    return "echo "
        + driver
        + " > "
        + dir
        + "/driver_override"
        + (function.driver().isPresent()
            ? " && echo " + address + " > " + dir + "/driver/unbind"
            : "")
        + " && echo "
        + address
        + " > "
        + sysfs.resolve("bus/pci/drivers_probe");
  }

  /** The names of the PCI drivers the kernel has loaded, sorted. */
  public List<String> drivers() {
    return sysfs.exists(DRIVERS) ? sysfs.list(DRIVERS) : List.of();
  }

  /**
   * The functions of IOMMU group {@code group}, by address; empty if there is no such group (or no
   * IOMMU). A function's group companions must move with it for VFIO to accept the group.
   */
  public List<PciAddress> iommuGroupMembers(int group) {
    String dir = "kernel/iommu_groups/" + group + "/devices";
    List<PciAddress> members = new ArrayList<>();
    try {
      if (sysfs.exists(dir)) {
        for (String name : sysfs.list(dir)) {
          if (PciAddress.isAddress(name)) {
            members.add(PciAddress.parse(name));
          }
        }
      }
    } catch (SysfsException e) {
      // The group went away meanwhile: no members to report.
    }
    members.sort(PciAddress::compareTo);
    return members;
  }

  /** The sysfs directory of a function, relative to the sysfs root. */
  public static String dir(PciAddress address) {
    return DEVICES + "/" + address;
  }

  private List<String> deviceNames() {
    if (!sysfs.exists(DEVICES)) {
      throw new PciException(
          "no "
              + DEVICES
              + " under "
              + sysfs.root()
              + ": not a sysfs tree (expected the layout of /sys)");
    }
    return sysfs.list(DEVICES);
  }

  private PciFunction read(PciAddress address) {
    String dir = dir(address);
    return new PciFunction(
        address,
        new PciId(hex(dir, "vendor", 0xffff), hex(dir, "device", 0xffff)),
        new PciId(hex(dir, "subsystem_vendor", 0xffff), hex(dir, "subsystem_device", 0xffff)),
        new PciClassCode(hex(dir, "class", 0xffffff)),
        sysfs.exists(dir + "/revision") ? hex(dir, "revision", 0xff) : 0,
        linkName(dir + "/driver"),
        driverOverride(dir),
        linkName(dir + "/iommu_group").map(PciBus::number).orElse(OptionalInt.empty()),
        numaNode(dir));
  }

  private int hex(String dir, String attribute, int max) {
    String path = dir + "/" + attribute;
    String text = sysfs.readAttribute(path);
    String digits = text.startsWith("0x") ? text.substring(2) : text;
    try {
      int value = Integer.parseUnsignedInt(digits, 16);
      if (value >= 0 && value <= max) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Reported below, with the range.
    }
    throw new PciException(
        "unexpected content \""
            + text
            + "\" in "
            + sysfs.resolve(path)
            + ": expected a hexadecimal number from 0 to 0x"
            + Integer.toHexString(max));
  }

  private Optional<String> linkName(String path) {
    return sysfs.readLink(path).map(target -> target.substring(target.lastIndexOf('/') + 1));
  }

  private Optional<String> driverOverride(String dir) {
    String path = dir + "/driver_override";
    if (!sysfs.exists(path)) {
      return Optional.empty();
    }
    String value = sysfs.readAttribute(path);
    return value.isEmpty() || value.equals("(null)") ? Optional.empty() : Optional.of(value);
  }

  private OptionalInt numaNode(String dir) {
    String path = dir + "/numa_node";
    if (!sysfs.exists(path)) {
      return OptionalInt.empty();
    }
    String text = sysfs.readAttribute(path);
    try {
      int node = Integer.parseInt(text);
      return node < 0 ? OptionalInt.empty() : OptionalInt.of(node);
    } catch (NumberFormatException e) {
      throw new PciException(
          "unexpected content \"" + text + "\" in " + sysfs.resolve(path) + ": expected an integer",
          e);
    }
  }

  private static OptionalInt number(String name) {
    try {
      return OptionalInt.of(Integer.parseInt(name));
    } catch (NumberFormatException e) {
      return OptionalInt.empty();
    }
  }
}
