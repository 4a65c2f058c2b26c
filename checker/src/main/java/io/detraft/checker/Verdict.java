package io.detraft.checker;

/** The answer of a checker. */
public enum Verdict {
  /** The history is correct. */
  VALID,
  /** The history is definitely incorrect; the result explains why. */
  INVALID,
  /** The checker gave up (search budget) before it could decide; never a guess. */
  UNKNOWN
}
