package io.detraft.checker;

import java.util.Objects;

/**
 * How {@link ElleChecker} checks a history.
 *
 * @param consistency the model the history must satisfy; anomalies it allows are still
 *     reported but do not make the history invalid
 * @param sequentialKeys rw-register only: assume each key is sequentially consistent, so the
 *     versions of a key one process sees are in version order
 * @param linearizableKeys rw-register only: assume each key is linearizable, so a version read
 *     or written by a transaction that completed before another began precedes that one's
 * @param maxSearchSteps the budget of one constrained cycle search in one strongly connected
 *     component (G-single and G-nonadjacent searches may need it); when it runs out, a weaker
 *     anomaly may be reported in place of a stronger one, and if nothing prohibited was found
 *     the verdict is {@link Verdict#UNKNOWN}
 * @param maxReportsPerType how many anomalies of one type are kept with their explanation;
 *     all are counted
 */
public record ElleOptions(ConsistencyModel consistency, boolean sequentialKeys,
    boolean linearizableKeys, long maxSearchSteps, int maxReportsPerType) {

  /** Generous for any realistic component; a search step visits one edge. */
  public static final long DEFAULT_MAX_SEARCH_STEPS = 10_000_000;
  /** Enough to see a pattern, few enough to read. */
  public static final int DEFAULT_MAX_REPORTS_PER_TYPE = 20;

  public ElleOptions {
    Objects.requireNonNull(consistency, "consistency");
    if (maxSearchSteps <= 0) {
      throw new IllegalArgumentException("maxSearchSteps must be > 0, got " + maxSearchSteps);
    }
    if (maxReportsPerType <= 0) {
      throw new IllegalArgumentException("maxReportsPerType must be > 0, got "
          + maxReportsPerType);
    }
  }

  /** Checks against {@code consistency} with default limits and no key assumptions. */
  public static ElleOptions of(ConsistencyModel consistency) {
    return new ElleOptions(consistency, false, false, DEFAULT_MAX_SEARCH_STEPS,
        DEFAULT_MAX_REPORTS_PER_TYPE);
  }

  /** A copy that assumes sequentially consistent keys (rw-register). */
  public ElleOptions withSequentialKeys() {
    return new ElleOptions(consistency, true, linearizableKeys, maxSearchSteps,
        maxReportsPerType);
  }

  /** A copy that assumes linearizable keys (rw-register). */
  public ElleOptions withLinearizableKeys() {
    return new ElleOptions(consistency, sequentialKeys, true, maxSearchSteps, maxReportsPerType);
  }

  /** A copy with another search budget. */
  public ElleOptions withMaxSearchSteps(long steps) {
    return new ElleOptions(consistency, sequentialKeys, linearizableKeys, steps,
        maxReportsPerType);
  }
}
