package dev.upcie.pci;

import dev.upcie.support.UpcieException;
import dev.upcie.sysfs.Sysfs;
import java.util.Optional;

/**
 * Moves a PCI function to another driver the way the kernel intends, and back.
 *
 * <p>The order is libvirt's and driverctl's (dpdk-devbind unbinds before it sets the override,
 * which leaves a window for the old driver):
 *
 * <ol>
 *   <li>check that the function exists and the target driver is loaded;
 *   <li>write the target to {@code driver_override} first, so the old driver cannot grab the
 *       function back in between;
 *   <li>unbind the function from its current driver;
 *   <li>write the address to {@code drivers_probe}, which binds it to the override;
 *   <li>verify the {@code driver} link; on any failure, put the old override and driver back and
 *       report both what failed and what was restored.
 * </ol>
 *
 * <p>The override is kept afterwards, so a later re-probe cannot silently hand the function back to
 * a kernel driver. {@link #restore} clears it again.
 *
 * <pre>{@code
 * PciDriverBinder binder = new PciDriverBinder(Sysfs.system());
 * PciBinding before = binder.bind(PciAddress.parse("0000:00:04.0"), "vfio-pci");
 * // ... use the device through VFIO ...
 * binder.restore(before);
 * }</pre>
 */
public final class PciDriverBinder {
  private final Sysfs sysfs;
  private final PciBus bus;

  /** A binder acting on {@code sysfs}. */
  public PciDriverBinder(Sysfs sysfs) {
    this.sysfs = sysfs;
    this.bus = new PciBus(sysfs);
  }

  /**
   * Binds the function at {@code address} to {@code driver}.
   *
   * @return the binding it had before, for {@link #restore}
   * @throws PciException if the function or driver is absent, or the kernel refused; the function
   *     is back on its old driver when this is thrown
   */
  public PciBinding bind(PciAddress address, String driver) {
    return bind(address, driver, null);
  }

  /**
   * {@link #bind(PciAddress, String)}, journaled: the binding it had is written to {@code journal}
   * (and synced) before the first sysfs write, and forgotten again if the bind fails and is rolled
   * back. {@link #restore(PciBinding, BindingJournal)} forgets it after putting it back.
   *
   * @throws PciException as {@link #bind(PciAddress, String)}, or if the journal cannot be written
   *     (then nothing was changed)
   */
  public PciBinding bind(PciAddress address, String driver, BindingJournal journal) {
    PciFunction function = bus.function(address);
    requireLoaded(driver, address);
    PciBinding before = PciBinding.of(function);
    if (function.isBoundTo(driver) && function.driverOverride().equals(Optional.of(driver))) {
      return before;
    }
    if (journal != null) {
      journal.record(before, driver);
    }
    try {
      sysfs.write(PciBus.dir(address) + "/driver_override", driver);
      if (function.driver().isPresent() && !function.isBoundTo(driver)) {
        unbind(address, function.driver().get());
      }
      if (!bus.function(address).isBoundTo(driver)) {
        sysfs.write("bus/pci/drivers_probe", address.toString());
      }
    } catch (UpcieException e) {
      throw rollBack(before, driver, e.getMessage(), e, journal);
    }
    PciFunction after = bus.function(address);
    if (!after.isBoundTo(driver)) {
      throw rollBack(
          before,
          driver,
          "after drivers_probe it is "
              + after.driver().map(d -> "bound to " + d).orElse("bound to no driver")
              + " (the driver refused it; see dmesg)",
          null,
          journal);
    }
    return before;
  }

  /**
   * {@link #restore(PciBinding)}, then forgets the journal's entry of the function.
   *
   * @throws PciException as {@link #restore(PciBinding)}; the entry then stays, for a later try
   */
  public void restore(PciBinding binding, BindingJournal journal) {
    restore(binding);
    journal.forget(binding.address());
  }

  /**
   * Puts a function back as {@code binding} describes it: override, then driver.
   *
   * @throws PciException if the kernel refuses, saying what state the function is left in
   */
  public void restore(PciBinding binding) {
    PciAddress address = binding.address();
    PciFunction now = bus.function(address);
    try {
      // An empty line clears driver_override; the kernel stores it as "(null)".
      sysfs.write(PciBus.dir(address) + "/driver_override", binding.driverOverride().orElse("\n"));
      if (now.driver().isPresent() && !now.driver().equals(binding.driver())) {
        unbind(address, now.driver().get());
      }
      if (binding.driver().isPresent() && !bus.function(address).driver().isPresent()) {
        String driver = binding.driver().get();
        requireLoaded(driver, address);
        sysfs.write(PciBus.DRIVERS + "/" + driver + "/bind", address.toString());
      }
    } catch (UpcieException e) {
      throw new PciException(
          "could not restore "
              + binding
              + ": "
              + e.getMessage()
              + "; it is now "
              + PciBinding.of(bus.function(address)),
          e);
    }
    PciFunction after = bus.function(address);
    if (!after.driver().equals(binding.driver())) {
      throw new PciException(
          "could not restore " + binding + ": it is " + PciBinding.of(after) + " after binding");
    }
  }

  private void unbind(PciAddress address, String driver) {
    sysfs.write(PciBus.DRIVERS + "/" + driver + "/unbind", address.toString());
  }

  private void requireLoaded(String driver, PciAddress address) {
    if (driver.isBlank() || driver.contains("/")) {
      throw new PciException("invalid driver name \"" + driver + "\" for " + address);
    }
    if (!sysfs.exists(PciBus.DRIVERS + "/" + driver)) {
      throw new PciException(
          "cannot bind "
              + address
              + " to "
              + driver
              + ": the driver is not loaded (no "
              + sysfs.resolve(PciBus.DRIVERS + "/" + driver)
              + "); load it with `modprobe "
              + driver
              + "`");
    }
  }

  private PciException rollBack(
      PciBinding before,
      String driver,
      String reason,
      UpcieException cause,
      BindingJournal journal) {
    String outcome;
    try {
      restore(before);
      if (journal != null) {
        journal.forget(before.address());
      }
      outcome = "restored " + before;
    } catch (UpcieException e) {
      outcome = "and restoring failed too: " + e.getMessage();
    }
    String message =
        "binding " + before.address() + " to " + driver + " failed: " + reason + "; " + outcome;
    return cause == null ? new PciException(message) : new PciException(message, cause);
  }
}
