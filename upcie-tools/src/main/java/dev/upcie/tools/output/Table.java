package dev.upcie.tools.output;

import java.util.ArrayList;
import java.util.List;

/** A plain text table: a header row and aligned columns separated by two spaces. */
public final class Table {
  private final List<String[]> rows = new ArrayList<>();
  private final int columns;

  /** A table with these column headings. */
  public Table(String... headings) {
    this.columns = headings.length;
    rows.add(headings);
  }

  /** Adds a row; it must have one cell per column. */
  public Table row(String... cells) {
    if (cells.length != columns) {
      throw new IllegalArgumentException(
          "row has " + cells.length + " cells, table has " + columns + " columns");
    }
    rows.add(cells);
    return this;
  }

  /** The table as text, one line per row, no trailing spaces. */
  @Override
  public String toString() {
    int[] widths = new int[columns];
    for (String[] row : rows) {
      for (int i = 0; i < columns; i++) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String[] row : rows) {
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < columns; i++) {
        line.append(row[i]);
        if (i + 1 < columns) {
          line.append(" ".repeat(widths[i] - row[i].length() + 2));
        }
      }
      out.append(line.toString().stripTrailing()).append('\n');
    }
    return out.toString();
  }
}
