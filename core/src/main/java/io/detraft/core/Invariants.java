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

  // Primitive overloads: hot paths check invariants on every step, and the varargs form would
  // box its arguments and allocate an array on every call, even when the check passes.

  public static void check(boolean condition, String format, long a) {
    if (!condition) {
      throw new Violation(String.format(format, a));
    }
  }

  public static void check(boolean condition, String format, long a, long b) {
    if (!condition) {
      throw new Violation(String.format(format, a, b));
    }
  }

  public static void check(boolean condition, String format, long a, long b, long c) {
    if (!condition) {
      throw new Violation(String.format(format, a, b, c));
    }
  }

  public static void check(boolean condition, String message) {
    if (!condition) {
      throw new Violation(message);
    }
  }
}
