package io.detraft.checker;

import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;

/**
 * Process-order and real-time-order edges between the transactions that may have taken
 * effect (ok, info, open; failed ones did not happen and get no edges).
 *
 * <p>Real-time order is the transitive reduction Elle builds: sweeping events in time order
 * (ties broken by history index, as in {@link LinearizabilityChecker}), a "frontier" holds
 * the completed transactions that no later-completed one follows yet. An invoke gets an edge
 * from each frontier member; a completion removes from the frontier the members its own
 * transaction was linked from (they now reach the future through it) and joins it. The
 * frontier members overlap pairwise in time, so there are at most about as many as there
 * are concurrent processes, and so edges per transaction. Transactions without a completion
 * (info, open) never join: they may take effect arbitrarily late.
 */
final class OrderEdges {
  private OrderEdges() {}

  static void addProcessOrder(Transactions txns, DependencyGraph.Builder graph) {
    Map<Long, Integer> last = new HashMap<>();
    for (int t = 0; t < txns.count; t++) {
      if (txns.failed(t)) {
        continue;
      }
      Integer previous = last.put(txns.operation[t].process(), t);
      if (previous != null) {
        graph.add(previous, t, DependencyKind.PROCESS);
      }
    }
  }

  static void addRealtimeOrder(Transactions txns, DependencyGraph.Builder graph) {
    long[] events = events(txns);
    int[] frontier = new int[16];
    int frontierSize = 0;
    boolean[] inFrontier = new boolean[txns.count];
    // Edges added at each transaction's invoke: [firstEdge, firstEdge + edgeCount).
    int[] firstEdge = new int[txns.count];
    int[] edgeCount = new int[txns.count];
    for (long event : events) {
      int t = (int) (event >>> 1);
      if ((event & 1) == 0) {
        firstEdge[t] = graph.size();
        for (int i = 0; i < frontierSize; i++) {
          graph.add(frontier[i], t, DependencyKind.REALTIME);
        }
        edgeCount[t] = graph.size() - firstEdge[t];
        continue;
      }
      for (int e = firstEdge[t]; e < firstEdge[t] + edgeCount[t]; e++) {
        inFrontier[graph.sourceAt(e)] = false;
      }
      int kept = 0;
      for (int i = 0; i < frontierSize; i++) {
        if (inFrontier[frontier[i]]) {
          frontier[kept++] = frontier[i];
        }
      }
      frontierSize = kept;
      if (frontierSize == frontier.length) {
        frontier = Arrays.copyOf(frontier, frontierSize * 2);
      }
      frontier[frontierSize++] = t;
      inFrontier[t] = true;
    }
  }

  /**
   * Invokes and ok completions as {@code txn << 1 | isCompletion}, in real-time order. A
   * history's ops come in index order, which is time order unless times go backwards; only
   * then do we sort.
   */
  static long[] events(Transactions txns) {
    long[] events = new long[2 * txns.count];
    long[] time = new long[2 * txns.count];
    int size = 0;
    // Transactions are numbered in the order of their invokes, so the k-th invoke is txn k.
    int nextTxn = 0;
    Map<Long, Integer> open = new HashMap<>();
    for (Op op : txns.history.ops()) {
      int t;
      if (op.type() == OpType.INVOKE) {
        t = nextTxn++;
        open.put(op.process(), t);
        if (txns.failed(t)) {
          continue;
        }
        events[size] = (long) t << 1;
      } else {
        t = open.remove(op.process());
        if (!txns.committed(t)) {
          continue;
        }
        events[size] = (long) t << 1 | 1;
      }
      time[size++] = op.time();
    }
    boolean timeSorted = true;
    for (int i = 1; i < size && timeSorted; i++) {
      timeSorted = time[i - 1] <= time[i];
    }
    if (timeSorted) {
      return Arrays.copyOf(events, size);
    }
    // Rare: times that go backwards. A stable sort by time keeps index order among ties.
    Integer[] order = new Integer[size];
    Arrays.setAll(order, i -> i);
    Arrays.sort(order, Comparator.comparingLong(i -> time[i]));
    long[] sorted = new long[size];
    for (int i = 0; i < size; i++) {
      sorted[i] = events[order[i]];
    }
    return sorted;
  }
}
