package io.detraft.checker;

import java.util.ArrayList;
import java.util.List;

/** Turns what {@link WglSearch} found on a non-linearizable key into words. */
final class ViolationReport {
  /** How many operations of the prefix and of the pending set to print. */
  private static final int SHOWN_MAX = 8;

  private ViolationReport() {}

  static String explain(KeyHistory history, WglSearch search) {
    int blocked = search.blockedOp();
    if (blocked < 0) {
      throw new IllegalStateException("key " + history.key + ": no blocked operation recorded");
    }
    int[] prefix = search.bestPrefix();
    int state = search.bestState();
    String key = Values.format(history.key);
    String holds = "key " + key + " holds " + Values.format(history.values.get(state));
    StringBuilder out = new StringBuilder();
    out.append("key ").append(key).append(" is not linearizable.\n");
    // Failed operations, gets without a result and crashed writes nobody read are not counted.
    out.append("Longest linearizable prefix: ").append(prefix.length).append(" of the ")
        .append(history.operationCount()).append(" operations that can matter");
    int shownFrom = Math.max(0, prefix.length - SHOWN_MAX);
    if (shownFrom > 0) {
      out.append(", the last ").append(SHOWN_MAX).append(":\n");
    } else {
      out.append(prefix.length > 0 ? ":\n" : ".\n");
    }
    for (int i = shownFrom; i < prefix.length; i++) {
      out.append("  ").append(i + 1).append(". ").append(history.sources.get(prefix[i]))
          .append('\n');
    }
    out.append("After it ").append(holds).append(".\n");
    out.append("Then this operation must take effect before it returned, but cannot:\n  ")
        .append(history.sources.get(blocked)).append("\n  because ")
        .append(reason(history, blocked, state, holds)).append('\n');
    List<Integer> others = pendingBefore(history, prefix, blocked);
    if (!others.isEmpty()) {
      out.append("Nor can any other operation invoked before that return go first:\n");
      for (int i = 0; i < Math.min(others.size(), SHOWN_MAX); i++) {
        int op = others.get(i);
        out.append("  ").append(history.sources.get(op)).append(": ")
            .append(reason(history, op, state, holds)).append('\n');
      }
      if (others.size() > SHOWN_MAX) {
        out.append("  ... and ").append(others.size() - SHOWN_MAX).append(" more\n");
      }
    }
    return out.toString();
  }

  private static String reason(KeyHistory history, int op, int state, String holds) {
    int after = history.step(op, state);
    if (!history.definite[op] && after >= 0) {
      return "it may have taken effect here, but nothing that could follow reads "
          + Values.format(history.values.get(after));
    }
    switch (history.kind[op]) {
      case KeyHistory.GET:
        return "it read " + Values.format(history.values.get(history.first[op])) + " but " + holds;
      case KeyHistory.CAS:
        return "it expected " + Values.format(history.values.get(history.first[op])) + " but "
            + holds;
      default:
        // A definite write always applies, so the search would have gone deeper from the
        // deepest configuration: only reachable if the search is broken.
        return "(a write that would apply here)";
    }
  }

  /** Operations outside the prefix, other than {@code blocked}, called before its return. */
  private static List<Integer> pendingBefore(KeyHistory history, int[] prefix, int blocked) {
    boolean[] done = new boolean[history.operationCount()];
    for (int op : prefix) {
      done[op] = true;
    }
    List<Integer> pending = new ArrayList<>();
    for (int e = 0; e < history.eventOp.length; e++) {
      int op = history.eventOp[e];
      if (!history.eventIsCall[e]) {
        if (op == blocked) {
          break;
        }
        continue;
      }
      if (!done[op] && op != blocked) {
        pending.add(op);
      }
    }
    return pending;
  }
}
