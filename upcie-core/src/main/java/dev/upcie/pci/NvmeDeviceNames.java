package dev.upcie.pci;

import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The PCI function behind a name the kernel's NVMe driver gave: a controller ({@code nvme0}, {@code
 * /dev/nvme0}), a namespace's disk ({@code nvme0n1}, {@code /dev/nvme0n1}) or a partition of it
 * ({@code /dev/nvme0n1p2}). Users know their disks by these names, not by address.
 *
 * <pre>{@code
 * PciAddress address = NvmeDeviceNames.resolve(Sysfs.system(), "/dev/nvme0n1");
 * }</pre>
 */
public final class NvmeDeviceNames {
  private static final Pattern NAME = Pattern.compile("(?:/dev/)?(nvme\\d+)(n\\d+)?(?:p\\d+)?");
  private static final Pattern ADDRESS =
      Pattern.compile("/([0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7])/");
  private static final Pattern HEAD = Pattern.compile("nvme(\\d+)n(\\d+)");

  private NvmeDeviceNames() {}

  /** Whether {@code text} has the shape of an NVMe controller, disk or partition name. */
  public static boolean isNvmeName(String text) {
    return NAME.matcher(text).matches();
  }

  /**
   * The function whose controller the name belongs to.
   *
   * @throws PciFunctionNotFoundException if no such controller or disk exists, or a multipath disk
   *     has several controllers (the message names them)
   * @throws IllegalArgumentException if {@code text} is not such a name
   */
  public static PciAddress resolve(Sysfs sysfs, String text) {
    Matcher m = NAME.matcher(text);
    if (!m.matches()) {
      throw new IllegalArgumentException("not an NVMe device name: " + text);
    }
    String controller = m.group(1);
    if (m.group(2) == null) {
      return controllerAddress(sysfs, controller)
          .orElseThrow(() -> notFound(sysfs, text, "class/nvme/" + controller));
    }
    String disk = controller + m.group(2);
    Optional<String> target = link(sysfs, "class/block/" + disk);
    if (target.isEmpty()) {
      throw notFound(sysfs, text, "class/block/" + disk);
    }
    Optional<PciAddress> below = lastAddress(target.get());
    if (below.isPresent()) {
      return below.get();
    }
    // Native multipath: the disk is the subsystem's head; its paths nvme<S>c<C>n<N> lie under
    // the controllers that reach it.
    Matcher head = HEAD.matcher(disk);
    head.matches();
    Pattern path = Pattern.compile("nvme" + head.group(1) + "c\\d+n" + head.group(2));
    List<PciAddress> controllers = new ArrayList<>();
    for (String name : list(sysfs, "class/nvme")) {
      if (list(sysfs, "class/nvme/" + name).stream().anyMatch(e -> path.matcher(e).matches())) {
        controllerAddress(sysfs, name).ifPresent(controllers::add);
      }
    }
    if (controllers.size() == 1) {
      return controllers.getFirst();
    }
    throw new PciFunctionNotFoundException(
        controllers.isEmpty()
            ? text + " is an NVMe disk no PCI controller reaches (" + target.get() + ")"
            : text
                + " is reached through "
                + controllers.size()
                + " controllers ("
                + controllers.stream().map(Object::toString).reduce((a, b) -> a + ", " + b).get()
                + "): name one by address");
  }

  private static Optional<PciAddress> controllerAddress(Sysfs sysfs, String controller) {
    return link(sysfs, "class/nvme/" + controller).flatMap(NvmeDeviceNames::lastAddress);
  }

  /** The nearest PCI function above a sysfs path: the last address in it. */
  private static Optional<PciAddress> lastAddress(String path) {
    Matcher m = ADDRESS.matcher(path + "/");
    String last = null;
    while (m.find()) {
      last = m.group(1);
    }
    return Optional.ofNullable(last).map(PciAddress::parse);
  }

  private static PciFunctionNotFoundException notFound(Sysfs sysfs, String text, String path) {
    return new PciFunctionNotFoundException(
        "no NVMe device "
            + text
            + ": "
            + sysfs.resolve(path)
            + " does not exist (only the controllers the kernel's nvme driver holds have names;"
            + " `upcie devbind list --class nvme` shows every NVMe function)");
  }

  private static Optional<String> link(Sysfs sysfs, String path) {
    try {
      return sysfs.readLink(path);
    } catch (UpcieException e) {
      return Optional.empty();
    }
  }

  private static List<String> list(Sysfs sysfs, String dir) {
    try {
      return sysfs.exists(dir) ? sysfs.list(dir) : List.of();
    } catch (UpcieException e) {
      return List.of();
    }
  }
}
