package dev.upcie.tools.hugepages;

import dev.upcie.hugepages.Hugepages;
import dev.upcie.hugepages.PoolWrite;
import dev.upcie.hugepages.Reservation;
import dev.upcie.support.Sizes;
import dev.upcie.tools.ExitCode;
import java.io.PrintWriter;
import java.util.List;

/** Shows a plan of pool writes ({@code --dry-run}) or carries it out and reports each outcome. */
final class PlanRunner {
  private PlanRunner() {}

  /** Prints each write with the full sysfs path; changes nothing. */
  static int dryRun(Hugepages hugepages, List<PoolWrite> plan, PrintWriter out) {
    for (PoolWrite write : plan) {
      out.println(
          "would write "
              + write.pages()
              + " to "
              + hugepages.sysfs().resolve(write.path())
              + "  ("
              + write
              + ", "
              + Sizes.human(write.pages() * write.size().bytes())
              + ")");
    }
    out.flush();
    return ExitCode.OK.code();
  }

  /**
   * Applies the plan and prints one line per pool; on a shortfall, prints why and what to do on
   * {@code err} and returns {@link ExitCode#PARTIAL}.
   */
  static int apply(Hugepages hugepages, List<PoolWrite> plan, PrintWriter out, PrintWriter err) {
    Reservation reservation = hugepages.reservations().apply(plan);
    for (Reservation.Outcome o : reservation.outcomes()) {
      PoolWrite w = o.write();
      out.println(
          w.size()
              + (w.node().isPresent() ? " node " + w.node().getAsInt() : " machine-wide")
              + ": "
              + o.before()
              + " -> "
              + o.after()
              + " pages ("
              + Sizes.human(o.after() * w.size().bytes())
              + ")");
    }
    out.flush();
    if (reservation.isComplete()) {
      return ExitCode.OK.code();
    }
    for (Reservation.Outcome o : reservation.outcomes()) {
      if (!o.isComplete()) {
        err.println("upcie: " + shortfall(o));
      }
    }
    err.flush();
    return ExitCode.PARTIAL.code();
  }

  private static String shortfall(Reservation.Outcome o) {
    PoolWrite w = o.write();
    String where = w.node().isPresent() ? "on node " + w.node().getAsInt() : "machine-wide";
    if (o.after() > w.pages()) {
      return "partial: "
          + (o.after() - w.pages())
          + " "
          + w.size()
          + " pages "
          + where
          + " are in use by a process and stay until it unmaps them";
    }
    String advice =
        w.size().bytes() >= 1L << 30
            ? "1G pages need free, contiguous gigabytes, which a running machine rarely has;"
                + " reserve them at boot (kernel command line: hugepagesz=1G hugepages="
                + w.pages()
                + ")"
            : "memory is too fragmented or too small; free memory and retry, or reserve at boot"
                + " (kernel command line: hugepagesz="
                + w.size()
                + " hugepages="
                + w.pages()
                + ")";
    return "partial: the kernel granted "
        + o.after()
        + " of "
        + w.pages()
        + " "
        + w.size()
        + " pages "
        + where
        + " after "
        + o.attempts()
        + " attempts with memory compaction; "
        + advice;
  }
}
