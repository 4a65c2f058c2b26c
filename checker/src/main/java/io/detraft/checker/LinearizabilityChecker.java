package io.detraft.checker;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Checks that a key/value history (see {@link Kv}) is linearizable.
 *
 * <p>The history is split by key, and each key is checked on its own with Wing and Gong's
 * search plus Lowe's memoization, keys in a fixed order (longs numerically, then strings), so
 * the same history always gives the same result. Operations that failed are dropped (they did
 * not happen); operations that ended info or never completed may have taken effect at any
 * point after their invoke, or never; a get with an unknown outcome constrains nothing.
 *
 * <p>Real-time order: operation A precedes B if A's completion time is less than B's invoke
 * time; at equal times, if A's completion was recorded first (lower index).
 *
 * <p>The search is exponential in the worst case. It stops after {@link
 * Options#maxStepsPerKey()} steps on one key and that key is then {@link Verdict#UNKNOWN}; an
 * answer of {@link Verdict#VALID} or {@link Verdict#INVALID} is always exact.
 */
public final class LinearizabilityChecker {
  private LinearizabilityChecker() {}

  /**
   * Search limits.
   *
   * @param maxStepsPerKey search steps allowed per key before that key is {@link
   *     Verdict#UNKNOWN}; memory grows with it (at most one small cache entry per step)
   */
  public record Options(long maxStepsPerKey) {
    /** Enough for thousands of operations per key with heavy concurrency and crashes. */
    public static final long DEFAULT_MAX_STEPS_PER_KEY = 2_000_000;

    public Options {
      if (maxStepsPerKey <= 0) {
        throw new IllegalArgumentException("maxStepsPerKey must be > 0, got " + maxStepsPerKey);
      }
    }

    /** The default limits. */
    public static Options defaults() {
      return new Options(DEFAULT_MAX_STEPS_PER_KEY);
    }
  }

  /**
   * What the checker found.
   *
   * @param verdict the answer
   * @param key for {@link Verdict#INVALID} the key that is not linearizable, for {@link
   *     Verdict#UNKNOWN} the first key that ran out of budget, else null
   * @param blocked for {@link Verdict#INVALID} the operation that could not be linearized
   *     after the longest linearizable prefix found, else null
   * @param unknownKeys keys whose search ran out of budget, in check order
   * @param keysChecked keys searched (the search stops at the first invalid key)
   * @param steps search steps over all keys searched
   * @param explanation the answer in words; {@link #toString()} returns it
   */
  public record Result(Verdict verdict, Object key, Operation blocked, List<Object> unknownKeys,
      int keysChecked, long steps, String explanation) {

    public Result {
      Objects.requireNonNull(verdict, "verdict");
      Objects.requireNonNull(explanation, "explanation");
      unknownKeys = List.copyOf(unknownKeys);
      if (verdict == Verdict.INVALID && (key == null || blocked == null)) {
        throw new IllegalArgumentException("an INVALID result names its key and operation");
      }
      boolean namesFirstUnknown = !unknownKeys.isEmpty() && unknownKeys.get(0).equals(key);
      if (verdict == Verdict.UNKNOWN && !namesFirstUnknown) {
        throw new IllegalArgumentException("an UNKNOWN result names its first unknown key");
      }
      if (verdict == Verdict.VALID && (key != null || blocked != null || !unknownKeys.isEmpty())) {
        throw new IllegalArgumentException("a VALID result names no key");
      }
    }

    /** Whether the verdict is {@link Verdict#VALID}. */
    public boolean isValid() {
      return verdict == Verdict.VALID;
    }

    @Override
    public String toString() {
      return explanation;
    }
  }

  /** Checks {@code history} with {@link Options#defaults()}. */
  public static Result check(History history) {
    return check(history, Options.defaults());
  }

  /**
   * Checks {@code history}.
   *
   * @throws IllegalArgumentException if an operation is not a well-formed get, put, cas or
   *     delete; the message names the op index
   */
  public static Result check(History history, Options options) {
    Objects.requireNonNull(history, "history");
    Objects.requireNonNull(options, "options");
    List<KeyHistory> keys = KvModel.split(history);
    List<Object> unknownKeys = new ArrayList<>();
    long steps = 0;
    int keysChecked = 0;
    for (KeyHistory key : keys) {
      WglSearch search = new WglSearch(key, options.maxStepsPerKey());
      WglSearch.Outcome outcome = search.run();
      steps += search.steps();
      keysChecked++;
      switch (outcome) {
        case LINEARIZABLE:
          break;
        case BUDGET_EXHAUSTED:
          unknownKeys.add(key.key);
          break;
        case NOT_LINEARIZABLE:
          Operation blocked = key.sources.get(search.blockedOp());
          String explanation = "INVALID: " + ViolationReport.explain(key, search);
          return new Result(Verdict.INVALID, key.key, blocked, unknownKeys, keysChecked, steps,
              explanation);
        default:
          throw new IllegalStateException("unknown outcome " + outcome);
      }
    }
    if (!unknownKeys.isEmpty()) {
      String explanation = "UNKNOWN: the search ran out of its budget of "
          + options.maxStepsPerKey() + " steps on " + unknownKeys.size() + " of " + keys.size()
          + " keys: " + formatKeys(unknownKeys) + "; the other keys are linearizable.";
      return new Result(Verdict.UNKNOWN, unknownKeys.get(0), null, unknownKeys, keysChecked,
          steps, explanation);
    }
    String explanation = "VALID: " + keys.size() + " keys, " + countOperations(keys)
        + " operations that constrain the result, " + steps + " search steps.";
    return new Result(Verdict.VALID, null, null, List.of(), keysChecked, steps, explanation);
  }

  private static String formatKeys(List<Object> keys) {
    List<String> shown = new ArrayList<>();
    for (int i = 0; i < Math.min(keys.size(), 10); i++) {
      shown.add(Values.format(keys.get(i)));
    }
    return String.join(", ", shown) + (keys.size() > 10 ? ", ..." : "");
  }

  private static long countOperations(List<KeyHistory> keys) {
    long count = 0;
    for (KeyHistory key : keys) {
      count += key.operationCount();
    }
    return count;
  }
}
