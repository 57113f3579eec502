package dev.upcie.tools.output;

import java.math.BigDecimal;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * A small JSON writer for the tools' {@code --json} output: maps (in their iteration order), lists,
 * strings, numbers (integers and finite doubles), booleans and null.
 */
public final class Json {
  private Json() {}

  /** {@code value} as indented JSON text, with a final newline. */
  public static String write(Object value) {
    StringBuilder out = new StringBuilder();
    write(out, value, 0);
    return out.append('\n').toString();
  }

  private static void write(StringBuilder out, Object value, int indent) {
    switch (value) {
      case null -> out.append("null");
      case String s -> string(out, s);
      case Boolean b -> out.append(b);
      case Integer i -> out.append(i);
      case Long l -> out.append(l);
      case Double d -> number(out, d);
      case Map<?, ?> map -> object(out, map, indent);
      case List<?> list -> array(out, list, indent);
      default ->
          throw new IllegalArgumentException(
              "no JSON form for " + value.getClass().getName() + ": " + value);
    }
  }

  /** A finite double in plain decimal notation, without trailing zeros: 12.5, 3, 0.001. */
  private static void number(StringBuilder out, double d) {
    if (!Double.isFinite(d)) {
      throw new IllegalArgumentException("no JSON form for " + d);
    }
    out.append(BigDecimal.valueOf(d).stripTrailingZeros().toPlainString());
  }

  private static void object(StringBuilder out, Map<?, ?> map, int indent) {
    if (map.isEmpty()) {
      out.append("{}");
      return;
    }
    out.append("{\n");
    Iterator<? extends Map.Entry<?, ?>> entries = map.entrySet().iterator();
    while (entries.hasNext()) {
      Map.Entry<?, ?> entry = entries.next();
      pad(out, indent + 1);
      string(out, String.valueOf(entry.getKey()));
      out.append(": ");
      write(out, entry.getValue(), indent + 1);
      out.append(entries.hasNext() ? ",\n" : "\n");
    }
    pad(out, indent);
    out.append('}');
  }

  private static void array(StringBuilder out, List<?> list, int indent) {
    if (list.isEmpty()) {
      out.append("[]");
      return;
    }
    out.append("[\n");
    for (int i = 0; i < list.size(); i++) {
      pad(out, indent + 1);
      write(out, list.get(i), indent + 1);
      out.append(i + 1 < list.size() ? ",\n" : "\n");
    }
    pad(out, indent);
    out.append(']');
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  private static void pad(StringBuilder out, int indent) {
    out.append("  ".repeat(indent));
  }
}
