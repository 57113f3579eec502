package dev.upcie.sim.sysfs;

import dev.upcie.errno.Errno;
import dev.upcie.pci.PciAddress;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciClassCode;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciResource;
import dev.upcie.sysfs.Sysfs;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The simulated kernel's PCI driver core: which functions exist, which driver each is bound to, and
 * the stores that change that ({@code bind}, {@code unbind}, {@code drivers_probe}, {@code
 * driver_override}, {@code new_id}, {@code remove_id}, {@code remove}, {@code rescan}, {@code
 * reset}, {@code enable}, {@code config}).
 *
 * <p>Locking follows the kernel's: each function has its own lock (the kernel's {@code
 * device_lock}), held while it binds, unbinds, resets, is enabled or has its override set, so a
 * store that hangs on one function holds up only stores to that function; {@code remove}, {@code
 * rescan} and unplugging also take one machine-wide lock ({@code pci_rescan_remove_lock}), always
 * before a function's. Listeners run once a store is done, with no lock held.
 */
final class DriverCore {
  /** Drivers whose probe creates a class device, and that class: {@code uio/uioN}, ... */
  private static final Map<String, String> CLASS_DEVICES =
      Map.of("uio_pci_generic", "uio", "nvme", "nvme");

  /** The character-device majors shown in the class devices' {@code dev}. */
  private static final Map<String, Integer> MAJORS = Map.of("uio", 243, "nvme", 242);

  private final SysfsTree files;
  private final Sysfs view;
  private final SysfsFaults faults;
  // Replaced whole when a module is loaded, so readers iterate a stable map in load order.
  private volatile Map<String, SimDriver> drivers;
  private final Map<String, List<DynamicId>> dynamicIds = new ConcurrentHashMap<>();
  private final Map<PciAddress, FunctionLayout> present = new ConcurrentHashMap<>();
  private final Map<PciAddress, FunctionLayout> removed = new ConcurrentHashMap<>();
  private final Map<PciAddress, ReentrantLock> locks = new ConcurrentHashMap<>();
  private final Map<PciAddress, FunctionHardware> hardware = new ConcurrentHashMap<>();
  private final Map<PciAddress, Integer> enableCounts = new ConcurrentHashMap<>();
  private final ReentrantLock rescanRemove = new ReentrantLock();
  // Class-device numbers are the kernel's idr: one allocator for all functions.
  private final Object classNumbers = new Object();
  private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

  DriverCore(SysfsTree files, Sysfs view, SysfsFaults faults, Map<String, SimDriver> drivers) {
    this.files = files;
    this.view = view;
    this.faults = faults;
    this.drivers = drivers;
  }

  /** Lays out the drivers and the functions as the machine boots, each on its boot driver. */
  void boot(Collection<FunctionLayout> functions) {
    files.dir("bus/pci/devices");
    files.dir("bus/pci/drivers");
    files.dir("kernel/iommu_groups");
    files.file("bus/pci/drivers_probe", "");
    files.file("bus/pci/rescan", "");
    for (SimDriver driver : drivers.values()) {
      layOutDriver(driver);
    }
    for (FunctionLayout layout : functions) {
      layout.layOut(files);
      present.put(layout.address(), layout);
      layout.bootDriver().ifPresent(driver -> attach(layout, driver));
    }
  }

  /**
   * Loads a driver's module, as {@code modprobe} does: its directory appears, and it binds every
   * unbound function its id table claims ({@code driver_register} attaches them).
   */
  void load(SimDriver driver) {
    synchronized (this) {
      if (drivers.containsKey(driver.name())) {
        return;
      }
      Map<String, SimDriver> loaded = new LinkedHashMap<>(drivers);
      loaded.put(driver.name(), driver);
      layOutDriver(driver);
      drivers = Collections.unmodifiableMap(loaded);
    }
    for (PciAddress address : new TreeMap<>(present).keySet()) {
      locked(
          address,
          () -> {
            PciFunction function = new PciBus(view).find(address).orElse(null);
            if (function != null && function.driver().isEmpty() && matches(driver, function)) {
              tryBind(driver, function); // driver_attach ignores a failed probe
            }
          });
    }
    changed();
  }

  private void layOutDriver(SimDriver driver) {
    String dir = "bus/pci/drivers/" + driver.name();
    for (String store : List.of("bind", "unbind", "new_id", "remove_id")) {
      files.file(dir + "/" + store, "");
    }
  }

  List<SimDriver> drivers() {
    return List.copyOf(drivers.values());
  }

  /** Runs {@code listener} after every store that changed a function's driver or presence. */
  void onChange(Runnable listener) {
    listeners.add(listener);
  }

  /** Puts hardware behind a function; the kernel shows {@code reset} only if it can reset. */
  void attachHardware(PciAddress address, FunctionHardware device) {
    hardware.put(address, device);
    showReset(address);
  }

  /** The live {@code config} bytes of a function with hardware behind it, else null. */
  Supplier<byte[]> liveConfig(PciAddress address) {
    FunctionHardware device = hardware.get(address);
    return device == null ? null : device::config;
  }

  /** {@code bus/pci/drivers/X/bind}: binds, or fails with the match's or the probe's errno. */
  void bind(String driver, SysfsStore store) {
    PciAddress address = named(store);
    locked(
        address,
        () -> {
          PciFunction function = function(address, store);
          SimDriver target = drivers.get(driver);
          if (!matches(target, function)) {
            throw store.refused(Errno.ENODEV);
          }
          if (function.driver().isPresent()) {
            throw store.refused(Errno.EBUSY);
          }
          tryBind(target, function)
              .ifPresent(errno -> {
                throw store.refused(errno);
              });
        });
    changed();
  }

  /** {@code bus/pci/drivers/X/unbind}: unbinds, ENODEV unless bound to X. */
  void unbind(String driver, SysfsStore store) {
    PciAddress address = named(store);
    locked(
        address,
        () -> {
          if (!function(address, store).isBoundTo(driver)) {
            throw store.refused(Errno.ENODEV);
          }
          faults.takeUnbindHang(address).ifPresent(hang -> hang.hold(store));
          detach(present.get(address), driver);
        });
    changed();
  }

  /** {@code bus/pci/drivers_probe}: binds an unbound function to the first driver that takes it. */
  void probe(SysfsStore store) {
    PciAddress address = named(store);
    locked(address, () -> autoProbe(address));
    changed();
  }

  /**
   * {@code driver_override}, as the kernel's {@code driver_set_override}: EINVAL for 4095 bytes or
   * more; the name ends at the first newline; an empty value, or one starting with a newline,
   * clears it.
   */
  void override(PciAddress address, SysfsStore store) {
    String value = store.value();
    if (value.length() >= 4095) {
      throw store.refused(Errno.EINVAL);
    }
    int newline = value.indexOf('\n');
    String name = newline < 0 ? value : value.substring(0, newline);
    locked(
        address,
        () -> {
          requirePresent(address, store);
          files.file(
              dirOf(address) + "/driver_override", (name.isEmpty() ? "(null)" : name) + "\n");
        });
  }

  /**
   * {@code new_id}: "vendor device [subvendor subdevice [class class_mask [driver_data]]]" in hex;
   * the driver then binds every unbound function the new id matches, as the kernel's {@code
   * driver_attach} does.
   */
  void newId(String driver, SysfsStore store) {
    long[] fields = DynamicId.scanHex(store.argument(), 7);
    if (fields.length < 2) {
      throw store.refused(Errno.EINVAL);
    }
    DynamicId id = DynamicId.of(fields);
    SimDriver target = drivers.get(driver);
    if (fields.length != 7 && matches(target, template(id))) {
      // The kernel refuses an id the driver already claims, from its table or an earlier new_id.
      throw store.refused(Errno.EEXIST);
    }
    if (fields.length == 7 && fields[6] != 0) {
      // driver_data must be one of the id table's, and every simulated table carries 0 (vfio-pci's
      // one override-only entry included).
      throw store.refused(Errno.EINVAL);
    }
    dynamicIds.computeIfAbsent(driver, d -> new CopyOnWriteArrayList<>()).add(id);
    for (PciAddress address : new TreeMap<>(present).keySet()) {
      locked(
          address,
          () -> {
            PciFunction function = new PciBus(view).find(address).orElse(null);
            if (function != null && function.driver().isEmpty() && matches(target, function)) {
              tryBind(target, function); // driver_attach ignores a failed probe
            }
          });
    }
    changed();
  }

  /** {@code remove_id}: forgets the first dynamic id that matches; ENODEV if none does. */
  void removeId(String driver, SysfsStore store) {
    long[] fields = DynamicId.scanHex(store.argument(), 6);
    if (fields.length < 2) {
      throw store.refused(Errno.EINVAL);
    }
    DynamicId pattern = DynamicId.of(fields);
    List<DynamicId> ids = dynamicIds.getOrDefault(driver, List.of());
    for (DynamicId id : ids) {
      if (id.vendor() == pattern.vendor()
          && id.device() == pattern.device()
          && (pattern.subvendor() == DynamicId.ANY || id.subvendor() == pattern.subvendor())
          && (pattern.subdevice() == DynamicId.ANY || id.subdevice() == pattern.subdevice())
          && ((id.classCode() ^ pattern.classCode()) & pattern.classMask()) == 0) {
        ids.remove(id);
        return;
      }
    }
    throw store.refused(Errno.ENODEV);
  }

  /**
   * {@code remove}: a non-zero value unbinds the function (and everything behind it, if it is a
   * bridge) and takes it off the bus until a {@code rescan} finds it again.
   */
  void remove(PciAddress address, SysfsStore store) {
    if (store.unsigned(0) != 0) {
      takeOffTheBus(address, store);
    }
  }

  /**
   * {@code bus/pci/rescan} or a function's {@code rescan}: a non-zero value brings back every
   * removed function, fresh (no override, not enabled), and probes drivers for it. (The kernel
   * rescans only the function's own bus for the latter; a simulated machine's removed functions all
   * come back.)
   */
  void rescan(SysfsStore store) {
    if (store.unsigned(0) == 0) {
      return;
    }
    rescanRemove.lock();
    try {
      // Parents before children: a bridge's directory holds its functions'.
      List<FunctionLayout> back = new ArrayList<>(removed.values());
      back.sort(
          Comparator.comparingInt((FunctionLayout l) -> l.dir().length())
              .thenComparing(l -> l.address().toString()));
      for (FunctionLayout layout : back) {
        PciAddress address = layout.address();
        removed.remove(address);
        locked(
            address,
            () -> {
              layout.layOut(files);
              // A rescanned function is a new pci_dev: no override, not enabled.
              files.file(layout.dir() + "/driver_override", "(null)\n");
              files.file(layout.dir() + "/enable", "0\n");
              enableCounts.remove(address);
              present.put(address, layout);
              showReset(address);
              autoProbe(address);
            });
      }
    } finally {
      rescanRemove.unlock();
    }
    changed();
  }

  /** Takes a function off the bus for good, as a hot unplug does: unbound, gone from sysfs. */
  void unplug(PciAddress address) {
    takeOffTheBus(address, null);
  }

  /**
   * {@code reset}: "1" resets the function through its hardware. Only functions whose hardware can
   * reset have the attribute, as in the kernel.
   */
  void reset(PciAddress address, SysfsStore store) {
    if (store.unsigned(0) != 1) {
      throw store.refused(Errno.EINVAL);
    }
    locked(
        address,
        () -> {
          requirePresent(address, store);
          FunctionHardware device = hardware.get(address);
          if (device == null || !device.canReset()) {
            throw store.refused(Errno.ENOTTY);
          }
          device.reset();
        });
  }

  /**
   * {@code enable}: counts enables as {@code pci_enable_device} does, turning decoding on at the
   * first; "0" undoes one and turns bus mastering off at the last. EBUSY while a driver is bound
   * (it owns the count), EIO to disable what is not enabled.
   */
  void enable(PciAddress address, SysfsStore store) {
    long value = store.unsigned(0);
    locked(
        address,
        () -> {
          if (function(address, store).driver().isPresent()) {
            throw store.refused(Errno.EBUSY);
          }
          int count = enableCounts.getOrDefault(address, 0);
          if (value != 0) {
            if (count == 0) {
              setCommand(address, command(address) | decodeBits(address));
            }
            count++;
          } else if (count > 0) {
            count--;
            if (count == 0) {
              setCommand(address, command(address) & ~0x4);
            }
          } else {
            throw store.refused(Errno.EIO);
          }
          enableCounts.put(address, count);
          files.file(dirOf(address) + "/enable", count + "\n");
        });
  }

  /**
   * A store to {@code config} at {@code offset}: clipped to the space, as sysfs clips a write to a
   * binary attribute, and passed to the hardware.
   *
   * @return the bytes written
   * @throws dev.upcie.sysfs.SysfsException EFBIG at or beyond the end, as sysfs refuses it; ENODEV
   *     if the function went away meanwhile
   */
  int writeConfig(PciAddress address, long offset, byte[] bytes, SysfsStore store) {
    requirePresent(address, store);
    int size = config(address).length;
    if (offset >= size) {
      throw store.refused(Errno.EFBIG);
    }
    int count = (int) Math.min(bytes.length, size - offset);
    storeConfig(address, (int) offset, Arrays.copyOf(bytes, count));
    return count;
  }

  /** The directory of a present function, as the recording or the layout placed it. */
  String dirOf(PciAddress address) {
    FunctionLayout layout = present.get(address);
    return layout != null ? layout.dir() : FunctionLayout.rootBusDir(address);
  }

  /**
   * Unbinds a function, and every function behind it if it is a bridge (deepest first), and deletes
   * them from the tree. Through a {@code remove} store (given) they come back on a rescan, and an
   * injected unbind hang holds the store (with {@code pci_rescan_remove_lock}, as in the kernel);
   * unplugged (null), they are gone for good.
   */
  private void takeOffTheBus(PciAddress address, SysfsStore remove) {
    rescanRemove.lock();
    try {
      FunctionLayout top = present.get(address);
      if (top == null) {
        // Removed earlier: an unplug now means it never comes back.
        if (remove == null) {
          removed.remove(address);
        }
        return;
      }
      List<FunctionLayout> going = new ArrayList<>();
      for (FunctionLayout layout : present.values()) {
        if (layout.dir().startsWith(top.dir() + "/")) {
          going.add(layout);
        }
      }
      going.sort(Comparator.comparingInt((FunctionLayout l) -> l.dir().length()).reversed());
      going.add(top);
      for (FunctionLayout layout : going) {
        locked(
            layout.address(),
            () -> {
              new PciBus(view)
                  .find(layout.address())
                  .flatMap(PciFunction::driver)
                  .ifPresent(driver -> {
                    if (remove != null) {
                      faults.takeUnbindHang(layout.address()).ifPresent(hang -> hang.hold(remove));
                    }
                    detach(layout, driver);
                  });
              delete(layout);
              if (remove != null) {
                removed.put(layout.address(), layout);
              } else {
                removed.remove(layout.address());
              }
            });
      }
    } finally {
      rescanRemove.unlock();
    }
    changed();
  }

  private void autoProbe(PciAddress address) {
    PciFunction function = new PciBus(view).find(address).orElse(null);
    if (function == null || function.driver().isPresent()) {
      return;
    }
    for (SimDriver driver : drivers.values()) {
      // The kernel ignores a failed probe here and tries the next driver.
      if (matches(driver, function) && tryBind(driver, function).isEmpty()) {
        return;
      }
    }
  }

  /** Probes {@code function} with {@code driver} and binds it if the probe succeeds. */
  private Optional<Errno> tryBind(SimDriver driver, PciFunction function) {
    Optional<Errno> failure = probe(driver, function);
    if (failure.isEmpty()) {
      attach(present.get(function.address()), driver.name());
    }
    return failure;
  }

  /**
   * The kernel's {@code pci_match_device}: an override names the only driver that may bind; then
   * dynamic ids, then the id table; a driver named by the override takes the function regardless.
   */
  private boolean matches(SimDriver driver, PciFunction function) {
    Optional<String> override = function.driverOverride();
    if (override.isPresent() && !override.get().equals(driver.name())) {
      return false;
    }
    return knows(driver, function) || override.isPresent();
  }

  /** True if one of the driver's dynamic ids or its id table names the function. */
  private boolean knows(SimDriver driver, PciFunction function) {
    return dynamicIds.getOrDefault(driver.name(), List.of()).stream()
            .anyMatch(id -> id.matches(function))
        || driver.claims(function);
  }

  /**
   * The driver's probe: an injected failure, or ENODEV from a driver with an id table for hardware
   * it does not know (forced on it through {@code driver_override}); override-only drivers take
   * anything.
   */
  private Optional<Errno> probe(SimDriver driver, PciFunction function) {
    Optional<Errno> injected = faults.takeBindFailure(function.address());
    if (injected.isPresent()) {
      return injected;
    }
    return driver.isOverrideOnly() || knows(driver, function)
        ? Optional.empty()
        : Optional.of(Errno.ENODEV);
  }

  private void attach(FunctionLayout layout, String driver) {
    String dir = layout.dir();
    files.link(dir + "/driver", "bus/pci/drivers/" + driver);
    files.link("bus/pci/drivers/" + driver + "/" + layout.address(), dir);
    String type = CLASS_DEVICES.get(driver);
    if (type != null) {
      synchronized (classNumbers) {
        int n = 0;
        while (files.exists("class/" + type + "/" + type + n)) {
          n++;
        }
        String device = dir + "/" + type + "/" + type + n;
        files.file(device + "/dev", MAJORS.get(type) + ":" + n + "\n");
        files.file(device + "/name", driver + "\n");
        files.link("class/" + type + "/" + type + n, device);
      }
    }
  }

  private void detach(FunctionLayout layout, String driver) {
    String dir = layout.dir();
    files.delete(dir + "/driver");
    files.delete("bus/pci/drivers/" + driver + "/" + layout.address());
    String type = CLASS_DEVICES.get(driver);
    if (type != null && files.exists(dir + "/" + type)) {
      synchronized (classNumbers) {
        for (String name : view.list(dir + "/" + type)) {
          files.delete("class/" + type + "/" + name);
        }
        files.deleteTree(dir + "/" + type);
      }
    }
  }

  /** Takes a function's directory and links away; a group left with no function goes too. */
  private void delete(FunctionLayout layout) {
    String address = layout.address().toString();
    view.readLink(layout.dir() + "/iommu_group")
        .ifPresent(link -> {
          String group = "kernel/iommu_groups/" + link.substring(link.lastIndexOf('/') + 1);
          files.delete(group + "/devices/" + address);
          if (view.list(group + "/devices").isEmpty()) {
            files.deleteTree(group);
          }
        });
    files.delete("bus/pci/devices/" + address);
    files.deleteTree(layout.dir());
    present.remove(layout.address());
  }

  private void showReset(PciAddress address) {
    FunctionHardware device = hardware.get(address);
    String reset = dirOf(address) + "/reset";
    if (device != null && device.canReset()) {
      files.file(reset, "");
    } else {
      files.delete(reset);
    }
  }

  private void changed() {
    listeners.forEach(Runnable::run);
  }

  /** The configuration bytes now: the hardware's, or those the layout wrote. */
  private byte[] config(PciAddress address) {
    FunctionHardware device = hardware.get(address);
    return device != null ? device.config() : files.readBytes(dirOf(address) + "/config");
  }

  /** Writes configuration bytes that fit the space, to the hardware or the stored bytes. */
  private void storeConfig(PciAddress address, int offset, byte[] bytes) {
    FunctionHardware device = hardware.get(address);
    if (device != null) {
      device.writeConfig(offset, bytes);
    } else {
      byte[] now = config(address);
      System.arraycopy(bytes, 0, now, offset, bytes.length);
      files.bytes(dirOf(address) + "/config", now);
    }
  }

  private int command(PciAddress address) {
    byte[] config = config(address);
    return (config[4] & 0xff) | (config[5] & 0xff) << 8;
  }

  private void setCommand(PciAddress address, int command) {
    storeConfig(address, 4, new byte[] {(byte) command, (byte) (command >> 8)});
  }

  /** Memory and I/O decoding for the kinds of BARs the function has, from {@code resource}. */
  private int decodeBits(PciAddress address) {
    int bits = 0;
    List<PciResource> table = PciResource.parse(view.read(dirOf(address) + "/resource"));
    for (PciResource bar : table.subList(0, Math.min(6, table.size()))) {
      bits |= (bar.isIo() ? 0x1 : 0) | (bar.isMemory() ? 0x2 : 0);
    }
    return bits;
  }

  /** A function the kernel looks up by its exact name: ENODEV for anything else. */
  private PciAddress named(SysfsStore store) {
    String name = store.argument();
    if (!PciAddress.isAddress(name) || !PciAddress.parse(name).toString().equals(name)) {
      throw store.refused(Errno.ENODEV);
    }
    PciAddress address = PciAddress.parse(name);
    if (!present.containsKey(address)) {
      throw store.refused(Errno.ENODEV);
    }
    return address;
  }

  /** The store's function must still be there: it may have been removed since it was opened. */
  private void requirePresent(PciAddress address, SysfsStore store) {
    if (!present.containsKey(address)) {
      throw store.refused(Errno.ENODEV);
    }
  }

  private PciFunction function(PciAddress address, SysfsStore store) {
    return new PciBus(view).find(address).orElseThrow(() -> store.refused(Errno.ENODEV));
  }

  private void locked(PciAddress address, Runnable action) {
    ReentrantLock lock = locks.computeIfAbsent(address, a -> new ReentrantLock());
    lock.lock();
    try {
      action.run();
    } finally {
      lock.unlock();
    }
  }

  /** The function the kernel's {@code new_id} checks against the driver's ids: just the id. */
  private static PciFunction template(DynamicId id) {
    return new PciFunction(
        PciAddress.parse("0000:00:00.0"),
        new PciId(id.vendor() & 0xffff, id.device() & 0xffff),
        new PciId(id.subvendor() & 0xffff, id.subdevice() & 0xffff),
        new PciClassCode(id.classCode() & 0xff_ffff),
        0,
        Optional.empty(),
        Optional.empty(),
        OptionalInt.empty(),
        OptionalInt.empty());
  }
}
