package dev.upcie.it.guest;

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
 * Runs in the QEMU guest before the device tests: binds every function with a given id to a driver,
 * with the project's own binding code.
 *
 * <pre>{@code java -cp ... dev.upcie.it.guest.GuestBind 1b36:0010 vfio-pci}</pre>
 */
public final class GuestBind {
  private GuestBind() {}

  public static void main(String[] args) {
    if (args.length != 2) {
      System.err.println("usage: GuestBind VENDOR:DEVICE DRIVER");
      System.exit(2);
    }
    try {
      Sysfs sysfs = Sysfs.system();
      List<PciFunction> matches =
          new PciBus(sysfs).select(PciSelector.any().withId(PciId.parse(args[0])));
      if (matches.isEmpty()) {
        System.err.println("guest-bind: no PCI function with id " + args[0]);
        System.exit(3);
      }
      PciDriverBinder binder = new PciDriverBinder(sysfs);
      for (PciFunction function : matches) {
        PciBinding before = binder.bind(function.address(), args[1]);
        System.out.println(
            "guest-bind: " + function.address() + " bound to " + args[1] + " (was " + before + ")");
      }
    } catch (UpcieException e) {
      System.err.println("guest-bind: " + e.getMessage());
      System.exit(1);
    }
  }
}
