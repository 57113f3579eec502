package dev.upcie.pci;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The safety checks made before a function leaves its driver, each with the name that overrides it
 * alone ({@code --force=mounted}): overriding one never overrides another.
 */
public enum BindCheck {
  /**
   * A filesystem on one of the function's disks (or on LVM, MD or dm-crypt above it) is mounted.
   */
  MOUNTED("unmount it first"),
  /** One of the function's disks (or a device above it) is swap. */
  SWAP("turn it off first with `swapoff`"),
  /** Another block device (LVM, MD, dm-crypt) is built on one of the function's disks. */
  HELD(
      "take the device built on it down first (`vgchange -an`, `mdadm --stop`, `cryptsetup close`)"),
  /**
   * A process holds one of the function's device nodes open. Unbinding then blocks in the kernel
   * until it closes them ({@code vfio-pci} waits for its users without a timeout).
   */
  OPEN("stop the process first"),
  /** A network interface of the function is up: the host's connections would drop. */
  NETWORK("take it down first with `ip link set <interface> down`"),
  /**
   * The function's IOMMU group has other endpoints on kernel drivers, so VFIO cannot use the group:
   * move them too ({@code --whole-group}) or not at all.
   */
  GROUP("move the whole group (--whole-group)");

  private final String remedy;

  BindCheck(String remedy) {
    this.remedy = remedy;
  }

  /** The name that overrides this check: {@code mounted}, {@code open}, ... */
  public String forceName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** What to do about it, in general terms; a {@link BindRefusal} says it for the case at hand. */
  public String remedy() {
    return remedy;
  }

  /** The check called {@code name}, as {@link #forceName()} spells it. */
  public static Optional<BindCheck> named(String name) {
    return Arrays.stream(values()).filter(c -> c.forceName().equals(name)).findFirst();
  }
}
