package dev.upcie.hugepages;

import static org.assertj.core.api.Assertions.assertThat;

import dev.upcie.sys.Syscalls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * This machine's hugepages, for tests that need real ones: checks for root, grows a pool to what a
 * test needs, and puts every pool it touched back as it was.
 *
 * <p>Without root, hugepage support or enough pages the tests are skipped with the reason; with the
 * system property {@code upcie.ci=true} each of those is a failure instead, since CI runs as root
 * on a machine with the memory.
 */
public final class RealHugepages implements AutoCloseable {
  private final Hugepages hugepages = Hugepages.system();
  private final Map<PageSize, HugepagePool> original = new LinkedHashMap<>();

  private RealHugepages() {}

  /** Requires root and hugepage support on this machine. */
  public static RealHugepages require() {
    boolean ci = Boolean.getBoolean("upcie.ci");
    if (!Files.isDirectory(Path.of("/sys/kernel/mm/hugepages"))) {
      assertThat(ci).as("this kernel has no hugepage support, but upcie.ci=true").isFalse();
      Assumptions.abort("this kernel has no hugepage support (/sys/kernel/mm/hugepages)");
    }
    if (Syscalls.geteuid() != 0) {
      assertThat(ci).as("hugepage tests need root, but upcie.ci=true").isFalse();
      Assumptions.abort("reserving hugepages needs root; run the tests as root");
    }
    return new RealHugepages();
  }

  /** The machine's hugepages. */
  public Hugepages hugepages() {
    return hugepages;
  }

  /**
   * Makes sure the pool of {@code size} has {@code pages} pages available, growing it if needed.
   *
   * @return this
   */
  public RealHugepages ensureAvailable(PageSize size, long pages) {
    boolean ci = Boolean.getBoolean("upcie.ci");
    if (!hugepages.sizes().contains(size)) {
      String reason = "this kernel has no " + size + " hugepages";
      assertThat(ci).as(reason + ", but upcie.ci=true").isFalse();
      Assumptions.abort(reason);
    }
    HugepagePool pool = hugepages.pool(size);
    original.putIfAbsent(size, pool);
    long missing = pages - pool.available();
    if (missing > 0) {
      HugepageReservations reservations = hugepages.reservations();
      Reservation r = reservations.apply(reservations.planTotal(size, pool.total() + missing));
      if (!r.isComplete()) {
        // The machine, not the code: in CI a failure, elsewhere the test cannot run.
        String reason =
            "the kernel granted "
                + r.outcomes().get(0).after()
                + " of "
                + (pool.total() + missing)
                + " "
                + size
                + " pages (memory too fragmented or too small)";
        assertThat(ci).as(reason + ", but upcie.ci=true").isFalse();
        Assumptions.abort(reason);
      }
    }
    return this;
  }

  /** Remembers a pool's size so {@link #close()} restores it, for tests that resize it. */
  public void remember(PageSize size) {
    original.putIfAbsent(size, hugepages.pool(size));
  }

  /**
   * Puts every pool touched back as it was, node by node where the kernel has nodes, so a
   * machine-wide figure cannot come back spread differently. Tries every pool even if one fails.
   */
  @Override
  public void close() {
    AssertionError failure = null;
    for (HugepagePool pool : original.values()) {
      try {
        Map<Integer, Long> perNode = new LinkedHashMap<>();
        pool.nodes().forEach(n -> perNode.put(n.node(), n.total()));
        hugepages
            .reservations()
            .apply(
                perNode.isEmpty()
                    ? hugepages.reservations().planTotal(pool.size(), pool.total())
                    : hugepages.reservations().planSplit(pool.size(), perNode));
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = new AssertionError("could not restore the hugepage pools", e);
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
