package io.detraft.checker;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;

/**
 * Wing and Gong's linearizability search with Lowe's memoization ("Testing for
 * linearizability", Concurrency and Computation: Practice and Experience, 2017), in the shape
 * Porcupine uses, for one key.
 *
 * <p>Call and return events sit in a doubly linked list in real-time order. The search scans
 * from the head: at a call it tries to linearize that operation now (the model must allow it
 * and the resulting configuration must be new); on success it <em>lifts</em> the call and its
 * return out of the list, pushes the choice and starts again from the head. Reaching a return
 * means that operation had to be linearized before this point but nothing left could be: the
 * search pops the last choice, <em>unlifts</em> it and tries the next call after it. The
 * history is linearizable once every definite operation is lifted. Indefinite operations have
 * no return event (their return is at infinity), so they are linearized only where that helps.
 *
 * <p>Three prunings keep the search small; none loses a linearization:
 *
 * <ol>
 *   <li><b>Reads first.</b> If a callable get matches the current state, it is linearized at
 *       once and no alternative is tried here: a get changes nothing, so any linearization
 *       from here stays valid with the get moved to the front. If the search later comes back
 *       to such a forced get, the configuration before it is a dead end too.
 *   <li><b>Crashed writes only where read.</b> An indefinite operation may be linearized only
 *       if the next one reads what it wrote (a get or a cas; both require that state). If a
 *       linearization exists, dropping every indefinite write that is followed by a put, a
 *       delete or nothing gives another, since those ignore the state before them. Without
 *       this the search would spend crashed writes wherever they are harmless and explore
 *       every subset of them before it could report a violation.
 *       Once nothing unlinearized reads a value, its crashed writers leave the event list, so
 *       scans stop stepping over them (they return when the search backtracks).
 *   <li><b>Interchangeable crashed writes in order.</b> Of indefinite operations with the same
 *       effect, the search uses them in invoke order: one invoked earlier can stand in for a
 *       later one anywhere the later one could go.
 * </ol>
 */
final class WglSearch {
  /** What one search found. */
  enum Outcome { LINEARIZABLE, NOT_LINEARIZABLE, BUDGET_EXHAUSTED }

  private static final int NONE = -1;
  /** Scan position meaning "a new configuration: look for a forced read first". */
  private static final int FRESH = -2;
  /** Entry id of the list head; events are entries 1..E. */
  private static final int HEAD = 0;

  private final KeyHistory history;
  private final long maxSteps;

  // The event list: entry e+1 is event e. Invariant: next/previous are mutual inverses over
  // the entries still in the list.
  private final int[] next;
  private final int[] previous;
  private final int[] entryOp;
  private final boolean[] entryIsCall;
  /** Operation id to the entry of its call and of its return (NONE if indefinite). */
  private final int[] callEntry;
  private final int[] returnEntry;
  /** Operation id to its bit in {@link #linearized}. */
  private final int[] bitOf;
  /** Indefinite operation id to the previous one with the same effect, or NONE. */
  private final int[] twinBefore;
  /** Value id to the indefinite operations that write it, in operation order. */
  private final int[][] writersOf;
  /**
   * Value id to the number of unlinearized operations that read it (gets and cas). Invariant:
   * when zero, the unlinearized writers of the value are out of the event list.
   */
  private final int[] readersLeft;

  // The current configuration.
  private final LinearizedSet linearized;
  private final ConfigurationCache cache = new ConfigurationCache();
  private int state = KeyHistory.ABSENT;
  /** Whether the last operation linearized is indefinite, so the next must read its write. */
  private boolean mustRead;
  private int remainingDefinite;

  // The choices made so far, depth of them: operation, the state before it, and whether it
  // was a forced read (pruning 1).
  private final int[] stackOp;
  private final int[] stackStateBefore;
  private final boolean[] stackForced;
  private int depth;

  // The deepest configuration reached, for the explanation of a violation. Invariant:
  // bestOps[0..agree) equals stackOp[0..agree), so updating it copies only what changed.
  private final int[] bestOps;
  private int bestLength;
  private int agree;
  private int bestState = KeyHistory.ABSENT;
  private int blockedOp = NONE;

  private long steps;

  WglSearch(KeyHistory history, long maxSteps) {
    if (maxSteps <= 0) {
      throw new IllegalArgumentException("maxSteps must be > 0, got " + maxSteps);
    }
    this.history = history;
    this.maxSteps = maxSteps;
    int n = history.operationCount();
    int entries = history.eventOp.length + 1;
    next = new int[entries];
    previous = new int[entries];
    entryOp = new int[entries];
    entryIsCall = new boolean[entries];
    callEntry = new int[n];
    returnEntry = new int[n];
    Arrays.fill(returnEntry, NONE);
    for (int entry = 0; entry < entries; entry++) {
      next[entry] = entry + 1 < entries ? entry + 1 : NONE;
      previous[entry] = entry - 1;
    }
    entryOp[HEAD] = NONE;
    for (int e = 0; e < history.eventOp.length; e++) {
      int op = history.eventOp[e];
      entryOp[e + 1] = op;
      entryIsCall[e + 1] = history.eventIsCall[e];
      if (history.eventIsCall[e]) {
        callEntry[op] = e + 1;
      } else {
        returnEntry[op] = e + 1;
      }
    }
    int definiteCount = 0;
    for (boolean definite : history.definite) {
      definiteCount += definite ? 1 : 0;
    }
    remainingDefinite = definiteCount;
    linearized = new LinearizedSet(definiteCount, n - definiteCount);
    bitOf = new int[n];
    twinBefore = new int[n];
    Map<Long, Integer> lastWithEffect = new HashMap<>();
    int definiteRank = 0;
    int indefiniteRank = 0;
    for (int op = 0; op < n; op++) {
      twinBefore[op] = NONE;
      if (history.definite[op]) {
        bitOf[op] = linearized.definiteBit(definiteRank++);
        continue;
      }
      bitOf[op] = linearized.indefiniteBit(indefiniteRank++);
      long effect = ((long) history.kind[op] << 62) ^ ((long) history.first[op] << 31)
          ^ history.second[op];
      Integer twin = lastWithEffect.put(effect, op);
      twinBefore[op] = twin == null ? NONE : twin;
    }
    int valueCount = history.values.size();
    readersLeft = new int[valueCount];
    int[] writerCount = new int[valueCount];
    for (int op = 0; op < n; op++) {
      if (history.reads(op)) {
        readersLeft[history.first[op]]++;
      }
      if (!history.definite[op]) {
        writerCount[written(op)]++;
      }
    }
    writersOf = new int[valueCount][];
    for (int value = 0; value < valueCount; value++) {
      writersOf[value] = new int[writerCount[value]];
      writerCount[value] = 0;
    }
    for (int op = 0; op < n; op++) {
      if (!history.definite[op]) {
        writersOf[written(op)][writerCount[written(op)]++] = op;
      }
    }
    for (int value = 0; value < valueCount; value++) {
      if (readersLeft[value] == 0) {
        hideWriters(value);
      }
    }
    stackOp = new int[n];
    stackStateBefore = new int[n];
    stackForced = new boolean[n];
    bestOps = new int[n];
  }

  /** Runs the search; call once. */
  Outcome run() {
    int entry = FRESH;
    while (remainingDefinite > 0) {
      if (steps == maxSteps) {
        return Outcome.BUDGET_EXHAUSTED;
      }
      steps++;
      if (entry == NONE) {
        // A definite operation is unlinearized, so its return is still in the list after
        // every scan position; falling off the end means the list is corrupt.
        throw new IllegalStateException("key " + history.key + ": scan fell off the event list");
      }
      if (entry == FRESH) {
        int read = matchingRead();
        if (read == NONE) {
          entry = next[HEAD];
        } else if (tryLinearize(read, true)) {
          entry = FRESH;
        } else {
          // The configuration after the read was explored already and failed: so does this.
          entry = backtrack();
          if (entry == NONE) {
            return Outcome.NOT_LINEARIZABLE;
          }
        }
        continue;
      }
      int op = entryOp[entry];
      if (entryIsCall[entry]) {
        entry = tryLinearize(op, false) ? FRESH : next[entry];
        continue;
      }
      // A return: `op` must be linearized before here, and no call before it could go next.
      if (depth == bestLength && agree == depth && blockedOp == NONE) {
        blockedOp = op;
      }
      entry = backtrack();
      if (entry == NONE) {
        return Outcome.NOT_LINEARIZABLE;
      }
    }
    return Outcome.LINEARIZABLE;
  }

  /** A callable get that reads the current state, or NONE. */
  private int matchingRead() {
    for (int entry = next[HEAD]; entry != NONE && entryIsCall[entry]; entry = next[entry]) {
      int op = entryOp[entry];
      if (history.kind[op] == KeyHistory.GET && history.step(op, state) >= 0) {
        return op;
      }
    }
    return NONE;
  }

  /** Linearizes {@code op} next if the model and prunings allow and the result is new. */
  private boolean tryLinearize(int op, boolean forced) {
    if (mustRead && !history.reads(op)) {
      return false;
    }
    if (twinBefore[op] != NONE && !linearized.contains(bitOf[twinBefore[op]])) {
      return false;
    }
    int after = history.step(op, state);
    if (after < 0) {
      return false;
    }
    boolean readNext = !history.definite[op];
    linearized.add(bitOf[op]);
    // The flag restricts what may follow, so it is part of the configuration.
    if (!cache.add(linearized, after << 1 | (readNext ? 1 : 0))) {
      linearized.remove(bitOf[op]);
      return false;
    }
    push(op, after, readNext, forced);
    state = after;
    mustRead = readNext;
    lift(op);
    remainingDefinite -= history.definite[op] ? 1 : 0;
    return true;
  }

  /**
   * Undoes the last choice, and the ones before it while they were forced; returns the entry
   * to scan next, or NONE if nothing is left to undo.
   */
  private int backtrack() {
    while (depth > 0) {
      depth--;
      agree = Math.min(agree, depth);
      int undone = stackOp[depth];
      state = stackStateBefore[depth];
      mustRead = depth > 0 && !history.definite[stackOp[depth - 1]];
      // Unlift while the bit is set, so undone's entries are relinked once, by unlift itself.
      unlift(undone);
      linearized.remove(bitOf[undone]);
      remainingDefinite += history.definite[undone] ? 1 : 0;
      if (!stackForced[depth]) {
        return next[callEntry[undone]];
      }
    }
    return NONE;
  }

  private void push(int op, int stateAfter, boolean readNext, boolean forced) {
    if (agree == depth && depth < bestLength && bestOps[depth] == op) {
      agree++;
    }
    stackOp[depth] = op;
    stackStateBefore[depth] = state;
    stackForced[depth] = forced;
    depth++;
    // A prefix ending in an indefinite write is not a place where the search can be stuck on
    // a definite operation, so it does not count as the deepest configuration.
    if (depth > bestLength && !readNext) {
      System.arraycopy(stackOp, agree, bestOps, agree, depth - agree);
      agree = depth;
      bestLength = depth;
      bestState = stateAfter;
      blockedOp = NONE;
    }
  }

  /** The value id an indefinite operation writes. */
  private int written(int op) {
    return switch (history.kind[op]) {
      case KeyHistory.PUT -> history.first[op];
      case KeyHistory.CAS -> history.second[op];
      case KeyHistory.DELETE -> KeyHistory.ABSENT;
      default -> throw new IllegalStateException("op " + op + " writes nothing");
    };
  }

  /**
   * Removes the call and return of linearized {@code op} from the list (Knuth's dancing
   * links), and the writers nobody can read any more.
   */
  private void lift(int op) {
    unlink(callEntry[op]);
    if (returnEntry[op] != NONE) {
      unlink(returnEntry[op]);
    }
    if (history.reads(op) && --readersLeft[history.first[op]] == 0) {
      hideWriters(history.first[op]);
    }
  }

  /** Undoes {@link #lift} in reverse order, so each entry's neighbours are intact. */
  private void unlift(int op) {
    if (history.reads(op) && readersLeft[history.first[op]]++ == 0) {
      showWriters(history.first[op]);
    }
    if (returnEntry[op] != NONE) {
      relink(returnEntry[op]);
    }
    relink(callEntry[op]);
  }

  private void hideWriters(int value) {
    for (int writer : writersOf[value]) {
      if (!linearized.contains(bitOf[writer])) {
        unlink(callEntry[writer]);
      }
    }
  }

  private void showWriters(int value) {
    int[] writers = writersOf[value];
    for (int i = writers.length - 1; i >= 0; i--) {
      if (!linearized.contains(bitOf[writers[i]])) {
        relink(callEntry[writers[i]]);
      }
    }
  }

  private void unlink(int entry) {
    next[previous[entry]] = next[entry];
    if (next[entry] != NONE) {
      previous[next[entry]] = previous[entry];
    }
  }

  private void relink(int entry) {
    next[previous[entry]] = entry;
    if (next[entry] != NONE) {
      previous[next[entry]] = entry;
    }
  }

  /** Search steps taken, at most the budget. */
  long steps() {
    return steps;
  }

  /** Operations of the longest linearizable prefix found, in linearization order. */
  int[] bestPrefix() {
    return Arrays.copyOf(bestOps, bestLength);
  }

  /** The value id after {@link #bestPrefix()}. */
  int bestState() {
    return bestState;
  }

  /** The operation that could not follow {@link #bestPrefix()}; NONE unless not linearizable. */
  int blockedOp() {
    return blockedOp;
  }
}
