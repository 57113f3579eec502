import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Fails if a Java example in README.md or docs/*.md differs from the test in examples/ that runs
 * it, so what the docs show is what CI compiled and ran.
 *
 * <p>Every {@code ```java} block carries a marker on the line before it. {@code <!-- example: PATH
 * -->} names the source file (from the checkout's root) that holds the block verbatim: its lines,
 * in order and consecutive, indentation aside. {@code <!-- fragment: why -->} marks a sketch that
 * cannot compile as shown. An unmarked block fails, so no new example goes untested by accident.
 *
 * <pre>java ci/ExamplesCheck.java [ROOT]     # ROOT: the checkout, default "."</pre>
 */
public class ExamplesCheck {
  private static final Pattern EXAMPLE = Pattern.compile("<!-- example: (\\S+) -->");
  private static final Pattern FRAGMENT = Pattern.compile("<!-- fragment: .+ -->");

  record Block(Path doc, int line, String marker, List<String> lines) {
    String where() {
      return doc + ":" + line;
    }
  }

  public static void main(String[] args) throws IOException {
    Path root = Path.of(args.length > 0 ? args[0] : ".");
    List<String> problems = new ArrayList<>();
    int examples = 0;
    int fragments = 0;
    for (Path doc : docs(root)) {
      for (Block block : blocks(root, doc)) {
        Matcher example = EXAMPLE.matcher(block.marker());
        if (example.matches()) {
          examples++;
          check(root, block, Path.of(example.group(1)), problems);
        } else if (FRAGMENT.matcher(block.marker()).matches()) {
          fragments++;
        } else {
          problems.add(
              block.where()
                  + ": a java block with no marker on the line before it: add <!-- example:"
                  + " examples/src/test/java/... --> and put the code in that test verbatim, or"
                  + " <!-- fragment: why --> if it cannot compile as shown");
        }
      }
    }
    for (String problem : problems) {
      System.err.println("ci/ExamplesCheck: " + problem);
    }
    if (!problems.isEmpty() || examples == 0) {
      if (examples == 0) {
        System.err.println("ci/ExamplesCheck: no marked examples under " + root.toAbsolutePath());
      }
      System.exit(1);
    }
    System.out.println(
        "ci/ExamplesCheck: the "
            + examples
            + " examples of README.md and docs/ are in examples/ as written; "
            + fragments
            + " marked as fragments, not compiled");
  }

  private static List<Path> docs(Path root) throws IOException {
    List<Path> docs = new ArrayList<>();
    docs.add(Path.of("README.md"));
    try (Stream<Path> files = Files.list(root.resolve("docs"))) {
      files
          .filter(p -> p.getFileName().toString().endsWith(".md"))
          .sorted()
          .forEach(p -> docs.add(root.relativize(p)));
    }
    return docs;
  }

  private static List<Block> blocks(Path root, Path doc) throws IOException {
    List<String> lines = Files.readAllLines(root.resolve(doc));
    List<Block> blocks = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      if (!lines.get(i).strip().equals("```java")) {
        continue;
      }
      String marker = i > 0 ? lines.get(i - 1).strip() : "";
      int start = i + 1;
      int end = start;
      while (end < lines.size() && !lines.get(end).strip().equals("```")) {
        end++;
      }
      blocks.add(new Block(doc, start + 1, marker, lines.subList(start, end)));
      i = end;
    }
    return blocks;
  }

  /** Adds a problem unless {@code source} holds the block's lines, in a run, indentation aside. */
  private static void check(Path root, Block block, Path source, List<String> problems)
      throws IOException {
    if (!Files.isRegularFile(root.resolve(source))) {
      problems.add(block.where() + ": names " + source + ", which does not exist");
      return;
    }
    List<String> want = block.lines().stream().map(String::strip).toList();
    List<String> have =
        Files.readAllLines(root.resolve(source)).stream().map(String::strip).toList();
    // The longest run of the block's first lines anywhere in the source shows where the two part.
    int bestAt = -1;
    int bestLength = -1;
    for (int at = 0; at < have.size(); at++) {
      int n = 0;
      while (n < want.size() && at + n < have.size() && want.get(n).equals(have.get(at + n))) {
        n++;
      }
      if (n == want.size()) {
        return;
      }
      if (n > bestLength) {
        bestAt = at;
        bestLength = n;
      }
    }
    String docLine = block.doc() + ":" + (block.line() + bestLength);
    problems.add(
        bestLength == 0
            ? block.where() + ": its first line is not in " + source + ": " + want.get(0)
            : docLine
                + " differs from "
                + source
                + ":"
                + (bestAt + bestLength + 1)
                + ": the doc has \""
                + want.get(bestLength)
                + "\", the test \""
                + (bestAt + bestLength < have.size() ? have.get(bestAt + bestLength) : "")
                + "\"; make them the same (the test is what CI runs)");
  }
}
