package dev.upcie.hugepages;

import java.util.List;

/**
 * What the kernel did with each write of a reservation. The kernel may grant fewer pages than asked
 * (memory is fragmented, or 1G pages need contiguous gigabytes); such a reservation is partial, and
 * says so.
 *
 * @param outcomes one per write, in order
 */
public record Reservation(List<Outcome> outcomes) {

  /** Copies the list. */
  public Reservation {
    outcomes = List.copyOf(outcomes);
  }

  /** True if every pool now has the size asked for. */
  public boolean isComplete() {
    return outcomes.stream().allMatch(Outcome::isComplete);
  }

  /**
   * One write and its result.
   *
   * @param write what was asked
   * @param before the pool size before
   * @param after the pool size the kernel reports afterwards
   * @param attempts writes made, more than one when compaction was tried
   */
  public record Outcome(PoolWrite write, long before, long after, int attempts) {

    /** True if the pool has the size asked for. */
    public boolean isComplete() {
      return after == write.pages();
    }
  }
}
