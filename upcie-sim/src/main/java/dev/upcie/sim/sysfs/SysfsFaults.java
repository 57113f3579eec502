package dev.upcie.sim.sysfs;

import dev.upcie.errno.Errno;
import dev.upcie.hugepages.PageSize;
import dev.upcie.pci.PciAddress;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;

/**
 * Faults to inject into the simulated kernel, each armed for the next matching store only: a probe
 * that fails, an unbind that hangs, a hugepage pool that runs short. They let a test see what its
 * code does when the kernel misbehaves the way real ones do.
 *
 * <pre>{@code
 * sysfs.faults().failNextBind(edu, Errno.ENOMEM);
 * assertThatThrownBy(() -> binder.bind(edu, "vfio-pci")).hasMessageContaining("ENOMEM");
 *
 * SysfsFaults.Hang hang = sysfs.faults().hangNextUnbind(edu);
 * executor.submit(() -> binder.unbind(edu));     // blocks inside the kernel
 * await().until(hang::isHeld);                   // meanwhile other functions still bind
 * hang.release();
 * }</pre>
 */
public final class SysfsFaults {
  private final Map<PciAddress, Errno> bindFailures = new ConcurrentHashMap<>();
  private final Map<PciAddress, Hang> unbindHangs = new ConcurrentHashMap<>();
  private final Map<Long, Long> hugepageLimits = new ConcurrentHashMap<>();

  SysfsFaults() {}

  /**
   * The next probe of {@code function} by any driver fails with {@code errno}: a write to {@code
   * bind} is refused with it, as the kernel passes a probe's error back; {@code drivers_probe},
   * {@code new_id} and {@code rescan} succeed and leave the function unbound, as the kernel ignores
   * probe errors there.
   */
  public void failNextBind(PciAddress function, Errno errno) {
    bindFailures.put(function, errno);
  }

  /**
   * The next unbind of {@code function} (through {@code unbind} or {@code remove}) blocks inside
   * the simulated kernel, holding that function's lock, until {@link Hang#release()}: a driver
   * whose remove callback waits for something. Stores that concern other functions go on, except
   * that a hang inside {@code remove} also holds the kernel's remove/rescan lock, as Linux's does.
   */
  public Hang hangNextUnbind(PciAddress function) {
    Hang hang = new Hang(function);
    unbindHangs.put(function, hang);
    return hang;
  }

  /**
   * The next store that grows the {@code size} pool finds only {@code pages} more pages, as when
   * memory is fragmented: the pool ends short of what was asked and the file shows what it got.
   */
  public void limitNextHugepageReservation(PageSize size, long pages) {
    if (pages < 0) {
      throw new IllegalArgumentException(
          "a pool cannot find " + pages + " pages; give 0 (nothing found) or more");
    }
    hugepageLimits.put(size.kilobytes(), pages);
  }

  Optional<Errno> takeBindFailure(PciAddress function) {
    return Optional.ofNullable(bindFailures.remove(function));
  }

  Optional<Hang> takeUnbindHang(PciAddress function) {
    return Optional.ofNullable(unbindHangs.remove(function));
  }

  OptionalLong takeHugepageLimit(long kilobytes) {
    Long limit = hugepageLimits.remove(kilobytes);
    return limit == null ? OptionalLong.empty() : OptionalLong.of(limit);
  }

  /** An unbind held inside the simulated kernel until released. */
  public static final class Hang {
    private final PciAddress function;
    private final CountDownLatch held = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);

    private Hang(PciAddress function) {
      this.function = function;
    }

    /** True once an unbind has reached the hang and waits there. */
    public boolean isHeld() {
      return held.getCount() == 0;
    }

    /** Lets the held unbind finish (or the next one pass, if none has arrived yet). */
    public void release() {
      released.countDown();
    }

    /** Blocks the unbinding thread; an interrupt ends the wait with the store refused (EINTR). */
    void hold(SysfsStore store) {
      held.countDown();
      try {
        // As long as the test wants: a hung driver does not time out.
        released.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw store.refused(Errno.EINTR);
      }
    }

    @Override
    public String toString() {
      return "a hang in the next unbind of " + function + (isHeld() ? " (held)" : "");
    }
  }
}
