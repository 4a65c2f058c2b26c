package io.detraft.core;

/**
 * Always-on assertions. Java's {@code assert} is off by default in production; a broken
 * invariant in a consensus protocol must stop the node, not silently corrupt data.
 */
public final class Invariants {
  private Invariants() {}

  /** Thrown when an invariant does not hold. Always a bug, never an input error. */
  public static final class Violation extends IllegalStateException {
    Violation(String message) {
      super(message);
    }
  }

  public static void check(boolean condition, String format, Object... args) {
    if (!condition) {
      throw new Violation(String.format(format, args));
    }
  }

  public static void check(boolean condition, String message) {
    if (!condition) {
      throw new Violation(message);
    }
  }
}
