import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints JMH CSV results as one Markdown table for docs/benchmarks.md: benchmark, parameters,
 * score with its error, unit, and, where JMH measured them, allocation per operation and the
 * median and 99th percentile of sampled times.
 *
 * <pre>java ci/BenchSummary.java host.csv guest-vfio.csv ...</pre>
 */
public class BenchSummary {
  public static void main(String[] args) throws Exception {
    System.out.println("| results | benchmark | parameters | score | ± 99.9 % | unit | extra |");
    System.out.println("|---|---|---|---|---|---|---|");
    for (String arg : args) {
      Path csv = Path.of(arg);
      List<String> lines = Files.readAllLines(csv);
      if (lines.isEmpty()) {
        continue;
      }
      List<String> header = fields(lines.get(0));
      List<String[]> rows = new ArrayList<>();
      for (String line : lines.subList(1, lines.size())) {
        rows.add(fields(line).toArray(String[]::new));
      }
      for (String[] row : rows) {
        String name = row[0];
        if (name.contains(":")) {
          continue;
        }
        List<String> params = new ArrayList<>();
        for (int i = 7; i < header.size() && i < row.length; i++) {
          if (!row[i].isEmpty()) {
            params.add(header.get(i).replace("Param: ", "") + "=" + row[i]);
          }
        }
        List<String> extra = new ArrayList<>();
        for (String[] other : rows) {
          if (other[0].startsWith(name + ":") && sameParams(row, other)) {
            String what = other[0].substring(name.length() + 1);
            if (what.equals("gc.alloc.rate.norm")) {
              extra.add(String.format(Locale.ROOT, "%.1f B/op", Double.parseDouble(other[4])));
            } else if (what.equals("p0.50") || what.equals("p0.99")) {
              extra.add(what + " " + number(other[4]));
            }
          }
        }
        System.out.printf(
            "| %s | %s | %s | %s | %s | %s | %s |%n",
            csv.getFileName(),
            name.replaceAll(".*\\.([A-Za-z]+Benchmark\\.)", "$1"),
            String.join(" ", params),
            number(row[4]),
            number(row[5]),
            row[6],
            String.join(", ", extra));
      }
    }
  }

  private static boolean sameParams(String[] a, String[] b) {
    for (int i = 7; i < Math.min(a.length, b.length); i++) {
      if (!a[i].equals(b[i])) {
        return false;
      }
    }
    return true;
  }

  private static String number(String text) {
    try {
      double value = Double.parseDouble(text);
      return Double.isNaN(value) ? "" : String.format(Locale.ROOT, value < 10 ? "%.3f" : "%.1f", value);
    } catch (NumberFormatException e) {
      return text;
    }
  }

  /** The fields of a JMH CSV line: quoted strings and bare numbers, comma-separated. */
  private static List<String> fields(String line) {
    List<String> fields = new ArrayList<>();
    StringBuilder field = new StringBuilder();
    boolean quoted = false;
    for (char c : line.toCharArray()) {
      if (c == '"') {
        quoted = !quoted;
      } else if (c == ',' && !quoted) {
        fields.add(field.toString());
        field.setLength(0);
      } else {
        field.append(c);
      }
    }
    fields.add(field.toString());
    return fields;
  }
}
