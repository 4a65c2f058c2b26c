package io.detraft.checker;

import java.util.Objects;

/**
 * A Clojure/EDN keyword inside an op value, e.g. the {@code :append} of {@code [:append 5 3]}.
 *
 * <p>It exists so that EDN round-trips without loss: a keyword and a string with the same
 * name are different values in EDN, and stay different here ({@code Keyword.of("r")} is not
 * {@code equals} to {@code "r"}). The op fields {@code :type} and {@code :f} are keywords in
 * every Jepsen history and are mapped to {@link OpType} and to a plain {@code String} instead.
 *
 * @param name the name without the colon; may carry a namespace ({@code "jepsen/nemesis"})
 */
public record Keyword(String name) {

  public Keyword {
    Objects.requireNonNull(name, "name");
    if (!isValidName(name)) {
      throw new IllegalArgumentException("not a keyword name: '" + name + "'");
    }
  }

  /** The keyword {@code :name}. */
  public static Keyword of(String name) {
    return new Keyword(name);
  }

  /**
   * Whether {@code name} prints as a readable EDN keyword: not empty, no whitespace, no
   * delimiter, not starting with a digit, a colon or a hash.
   */
  public static boolean isValidName(String name) {
    if (name.isEmpty() || Character.isDigit(name.charAt(0)) || name.charAt(0) == ':'
        || name.charAt(0) == '#') {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isWhitespace(c) || "()[]{}\",;@^`~\\".indexOf(c) >= 0) {
        return false;
      }
    }
    return true;
  }

  @Override
  public String toString() {
    return ":" + name;
  }
}
