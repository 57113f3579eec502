package dev.upcie.it.guest;

import dev.upcie.host.Host;
import dev.upcie.pci.PciBinding;
import dev.upcie.pci.PciBus;
import dev.upcie.pci.PciDriverBinder;
import dev.upcie.pci.PciFunction;
import dev.upcie.pci.PciId;
import dev.upcie.pci.PciSelector;
import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.util.List;

/**
 * Runs in the QEMU guest before the device tests: binds every function with each given id to its
 * driver, with the project's own binding code. One JVM for all pairs, since each start costs
 * seconds under TCG.
 *
 * <pre>{@code java -cp ... dev.upcie.it.guest.GuestBind 1b36:0010 vfio-pci 1234:11e8 vfio-pci}
 * </pre>
 */
public final class GuestBind {
  private GuestBind() {}

  public static void main(String[] args) {
    if (args.length == 0 || args.length % 2 != 0) {
      System.err.println("usage: GuestBind VENDOR:DEVICE DRIVER [VENDOR:DEVICE DRIVER]...");
      System.exit(2);
    }
    try {
      Sysfs sysfs = Sysfs.system();
      // The whole algorithm against the guest's kernel: modprobe, preflight, node verification.
      PciDriverBinder binder = new PciDriverBinder(Host.system());
      for (int i = 0; i < args.length; i += 2) {
        bindAll(sysfs, binder, args[i], args[i + 1]);
      }
    } catch (UpcieException e) {
      System.err.println("guest-bind: " + e.getMessage());
      System.exit(1);
    }
  }

  private static void bindAll(Sysfs sysfs, PciDriverBinder binder, String id, String driver) {
    List<PciFunction> matches = new PciBus(sysfs).select(PciSelector.any().withId(PciId.parse(id)));
    if (matches.isEmpty()) {
      System.err.println("guest-bind: no PCI function with id " + id);
      System.exit(3);
    }
    for (PciFunction function : matches) {
      PciBinding before = binder.bind(function.address(), driver);
      System.out.println(
          "guest-bind: " + function.address() + " bound to " + driver + " (was " + before + ")");
    }
  }
}
