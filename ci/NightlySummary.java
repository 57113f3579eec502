import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Prints ci/nightly's matrix as a Markdown table, one row per cell: the kernel the guest ran, the
 * tests run, failed (failures and errors) and skipped, in the guest and on the host together, the
 * cell's wall time, and whether it passed. Exits 1 if any cell failed.
 *
 * <p>A cell passes only if its Maven run passed and no test failed or was skipped: the guest suites
 * must run every test, so a skip is a cell that did not test what it names.
 *
 * <pre>java ci/NightlySummary.java target/nightly CELL...</pre>
 *
 * Each {@code target/nightly/CELL} holds {@code status} (Maven's exit status), {@code seconds},
 * {@code failsafe-reports/} (the host's) and {@code guest/} (the guest's reports and console).
 */
public class NightlySummary {
  record Counts(int run, int failed, int skipped) {
    Counts plus(Counts other) {
      return new Counts(run + other.run, failed + other.failed, skipped + other.skipped);
    }
  }

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    List<String> failed = new ArrayList<>();
    System.out.println("| cell | guest kernel | tests run | failed | skipped | time | result |");
    System.out.println("|---|---|---:|---:|---:|---:|---|");
    for (int i = 1; i < args.length; i++) {
      String cell = args[i];
      Path dir = out.resolve(cell);
      int status = Integer.parseInt(read(dir.resolve("status"), "-1"));
      long seconds = Long.parseLong(read(dir.resolve("seconds"), "0"));
      Counts counts = counts(dir);
      boolean passed = status == 0 && counts.failed() == 0 && counts.skipped() == 0 && counts.run() > 0;
      if (!passed) {
        failed.add(cell);
      }
      System.out.printf(
          "| %s | %s | %d | %d | %d | %d min %02d s | %s |%n",
          cell,
          kernel(dir.resolve("guest/console.log")),
          counts.run(),
          counts.failed(),
          counts.skipped(),
          seconds / 60,
          seconds % 60,
          passed ? "pass" : "FAIL (Maven exit " + status + ")");
    }
    System.out.println();
    if (failed.isEmpty()) {
      System.out.println("ci/nightly: every cell passed");
    } else {
      System.out.println(
          "ci/nightly: failed: "
              + String.join(", ", failed)
              + "; see "
              + out
              + "/CELL/maven.log and guest/console.log");
      System.exit(1);
    }
  }

  /** Tests in every JUnit XML report of the cell, the host's and the guest's. */
  private static Counts counts(Path dir) throws Exception {
    Counts total = new Counts(0, 0, 0);
    if (!Files.isDirectory(dir)) {
      return total;
    }
    List<Path> reports;
    try (Stream<Path> files = Files.walk(dir)) {
      reports = files.filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml")).toList();
    }
    for (Path report : reports) {
      NodeList cases =
          DocumentBuilderFactory.newInstance()
              .newDocumentBuilder()
              .parse(report.toFile())
              .getElementsByTagName("testcase");
      for (int i = 0; i < cases.getLength(); i++) {
        Element testcase = (Element) cases.item(i);
        boolean failure =
            testcase.getElementsByTagName("failure").getLength() > 0
                || testcase.getElementsByTagName("error").getLength() > 0;
        boolean skipped = testcase.getElementsByTagName("skipped").getLength() > 0;
        total = total.plus(new Counts(1, failure ? 1 : 0, skipped ? 1 : 0));
      }
    }
    return total;
  }

  /** The release the guest printed ({@code upcie-guest: kernel <release>, ...}), or "-". */
  private static String kernel(Path console) throws Exception {
    if (!Files.exists(console)) {
      return "-";
    }
    String prefix = "upcie-guest: kernel ";
    for (String line : Files.readAllLines(console, java.nio.charset.StandardCharsets.ISO_8859_1)) {
      int at = line.indexOf(prefix);
      if (at >= 0) {
        String rest = line.substring(at + prefix.length());
        int comma = rest.indexOf(',');
        return comma < 0 ? rest : rest.substring(0, comma);
      }
    }
    return "-";
  }

  private static String read(Path file, String otherwise) throws Exception {
    return Files.exists(file) ? Files.readString(file).strip() : otherwise;
  }
}
