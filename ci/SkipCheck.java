import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * Fails the CI run if any test was skipped for a reason not listed in ci/expected-skips.
 *
 * <p>Reads every JUnit XML report the build wrote (surefire, failsafe, the QEMU guests', and
 * examples/'s under each JUnit line), so a skip anywhere is seen, whatever made it (an assumption, a
 * disabled test, a condition).
 *
 * <pre>java ci/SkipCheck.java [ROOT]     # ROOT: the checkout, default "."</pre>
 */
public class SkipCheck {
  record Expected(String test, String reason, String why) {}

  record Skip(String test, String reason) {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args.length > 0 ? args[0] : ".");
    List<Expected> expected = expected(root.resolve("ci/expected-skips"));
    List<Path> reports = reports(root);
    if (reports.isEmpty()) {
      System.err.println("ci/SkipCheck: no JUnit reports under " + root.toAbsolutePath());
      System.exit(1);
    }
    List<Skip> unexpected = new ArrayList<>();
    int allowed = 0;
    int tests = 0;
    for (Path report : reports) {
      NodeList cases =
          DocumentBuilderFactory.newInstance()
              .newDocumentBuilder()
              .parse(report.toFile())
              .getElementsByTagName("testcase");
      for (int i = 0; i < cases.getLength(); i++) {
        tests++;
        Element testcase = (Element) cases.item(i);
        NodeList skipped = testcase.getElementsByTagName("skipped");
        if (skipped.getLength() == 0) {
          continue;
        }
        String name = testcase.getAttribute("name");
        int paren = name.indexOf('(');
        Skip skip =
            new Skip(
                testcase.getAttribute("classname")
                    + "#"
                    + (paren < 0 ? name : name.substring(0, paren)),
                reason((Element) skipped.item(0)));
        Expected match =
            expected.stream()
                .filter(e -> e.test().equals(skip.test()) && skip.reason().startsWith(e.reason()))
                .findFirst()
                .orElse(null);
        if (match == null) {
          unexpected.add(skip);
        } else {
          allowed++;
          System.out.println(
              "ci/SkipCheck: expected skip " + skip.test() + ": " + skip.reason() + " (" + match.why() + ")");
        }
      }
    }
    System.out.println(
        "ci/SkipCheck: " + tests + " tests in " + reports.size() + " reports, " + allowed
            + " expected skips, " + unexpected.size() + " unexpected");
    for (Skip skip : unexpected) {
      System.err.println("ci/SkipCheck: UNEXPECTED skip " + skip.test() + ": " + skip.reason());
    }
    if (!unexpected.isEmpty()) {
      System.err.println(
          "ci/SkipCheck: in CI every test must run; install or reserve what these need (ci/setup),"
              + " or list a skip that this machine kind cannot avoid in ci/expected-skips, with why");
      System.exit(1);
    }
  }

  /** The skip's message, else the first line of its stack trace (assumption messages live there). */
  private static String reason(Element skipped) {
    String message = skipped.getAttribute("message");
    if (!message.isBlank()) {
      return message.strip();
    }
    String text = skipped.getTextContent().strip();
    String first = text.lines().findFirst().orElse("");
    int colon = first.indexOf(": ");
    String reason = colon < 0 ? first : first.substring(colon + 2);
    return reason.startsWith("Assumption failed: ")
        ? reason.substring("Assumption failed: ".length())
        : reason;
  }

  private static List<Expected> expected(Path file) throws IOException {
    List<Expected> expected = new ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      if (line.isBlank() || line.startsWith("#")) {
        continue;
      }
      String[] fields = line.split("\\|", 3);
      if (fields.length != 3) {
        throw new IllegalArgumentException(file + ": not CLASS#METHOD | reason | why: " + line);
      }
      expected.add(new Expected(fields[0].strip(), fields[1].strip(), fields[2].strip()));
    }
    return expected;
  }

  private static List<Path> reports(Path root) throws IOException {
    try (Stream<Path> files = Files.walk(root)) {
      return files
          .filter(p -> p.getFileName().toString().matches("TEST-.*\\.xml"))
          .filter(p -> {
            String path = p.toString();
            // examples/ builds once per JUnit line, in target/junit-<version>/.
            return path.matches(".*/target/([^/]+/)?(surefire|failsafe)-reports/[^/]+")
                || path.contains("/target/qemu/");
          })
          .sorted()
          .toList();
    }
  }
}
