package io.detraft.checker;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.RandomAccess;

/** Checks, freezes and prints Jepsen-like values. */
final class Values {
  private Values() {}

  /**
   * Returns an unmodifiable deep copy of {@code value}, or throws if it holds a type that the
   * checkers do not understand. Lists keep nulls (unlike {@code List.copyOf}) because Jepsen
   * values use them, e.g. {@code [key, nil]} for a read that found nothing.
   */
  static Object freeze(Object value, long opIndex) {
    if (value == null
        || value instanceof Long
        || value instanceof String
        || value instanceof Boolean
        || value instanceof Keyword
        || value instanceof FrozenList) {
      return value;
    }
    if (value instanceof List<?> list) {
      List<Object> copy = new ArrayList<>(list.size());
      for (Object element : list) {
        copy.add(freeze(element, opIndex));
      }
      return Collections.unmodifiableList(copy);
    }
    if (value instanceof Map<?, ?> map) {
      Map<Object, Object> copy = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        copy.put(freeze(entry.getKey(), opIndex), freeze(entry.getValue(), opIndex));
      }
      return Collections.unmodifiableMap(copy);
    }
    throw new IllegalArgumentException("op " + opIndex + ": value of type "
        + value.getClass().getName() + " is not allowed (use null, Long, String, Boolean, "
        + "Keyword, List or Map; write 1L, not 1)");
  }

  /**
   * An unmodifiable list of {@code elements}, which must be frozen values already, and which
   * it takes over: {@link #freeze} then keeps it as it is instead of copying it (a reader's
   * lists, built once).
   */
  static List<Object> frozenList(Object[] elements) {
    return new FrozenList(elements);
  }

  /** A list that {@link #freeze} need not copy: made only of frozen values. */
  private static final class FrozenList extends AbstractList<Object> implements RandomAccess {
    private final Object[] elements;

    FrozenList(Object[] elements) {
      this.elements = elements;
    }

    @Override
    public Object get(int index) {
      return elements[index];
    }

    @Override
    public int size() {
      return elements.length;
    }
  }

  /** A value as EDN ({@code pr-str}'s text): strings quoted, null as nil, lists in brackets. */
  static String format(Object value) {
    StringBuilder out = new StringBuilder();
    appendEdn(out, value);
    return out.toString();
  }

  /** A value of our model as {@code pr-str} prints it: lists as vectors, maps in order. */
  static void appendEdn(StringBuilder out, Object value) {
    if (value == null) {
      out.append("nil");
    } else if (value instanceof String string) {
      out.append('"');
      for (int i = 0; i < string.length(); i++) {
        char c = string.charAt(i);
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          case '\n' -> out.append("\\n");
          case '\t' -> out.append("\\t");
          case '\r' -> out.append("\\r");
          case '\f' -> out.append("\\f");
          case '\b' -> out.append("\\b");
          default -> out.append(c);
        }
      }
      out.append('"');
    } else if (value instanceof List<?> list) {
      out.append('[');
      for (int i = 0; i < list.size(); i++) {
        if (i > 0) {
          out.append(' ');
        }
        appendEdn(out, list.get(i));
      }
      out.append(']');
    } else if (value instanceof Map<?, ?> map) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> entry : map.entrySet()) {
        if (!first) {
          out.append(", ");
        }
        first = false;
        appendEdn(out, entry.getKey());
        out.append(' ');
        appendEdn(out, entry.getValue());
      }
      out.append('}');
    } else {
      // Long, Boolean, Keyword (":name"): their toString is their EDN.
      out.append(value);
    }
  }
}
