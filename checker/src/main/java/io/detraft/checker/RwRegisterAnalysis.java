package io.detraft.checker;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The rw-register half of Elle (section 5.2 of the paper): each value is written to a key at
 * most once, so a read names its writer; but a read of a register shows one version, not
 * the history of versions, so the version order must be inferred from weaker facts:
 *
 * <ul>
 *   <li>the initial state nil precedes every written version;
 *   <li>writes follow reads: a transaction that read v (or wrote v) and then wrote w put w
 *       after v;
 *   <li>with {@link ElleOptions#sequentialKeys()}: the versions of a key that one process
 *       sees, transaction after transaction, are in version order;
 *   <li>with {@link ElleOptions#linearizableKeys()}: the version a transaction leaves precedes
 *       the one seen by any transaction that begins after it completed.
 * </ul>
 *
 * <p>The version graph of each key must be acyclic (else cyclic-versions, and the key gives no
 * edges). Each version edge v1 -> v2 gives writer(v1) ww-> writer(v2) and reader(v1) rw->
 * writer(v2); each read of v gives writer(v) wr-> reader.
 */
final class RwRegisterAnalysis implements Findings.EdgeExplainer {
  private static final int INITIAL = 0;
  private static final int IN_TRANSACTION = 1;
  private static final int SEQUENTIAL = 2;
  private static final int LINEARIZABLE = 3;
  private static final Object NIL = new Object() {
    @Override
    public String toString() {
      return "nil";
    }
  };

  /** The versions of one key and the facts that order them. Version 0 is the initial nil. */
  private static final class Key {
    final Map<Object, Integer> ids = new HashMap<>();
    final List<Object> values = new ArrayList<>();
    /** Per version: {@code writer << 1 | 1 if final in its transaction}, or -1. */
    final List<Integer> writer = new ArrayList<>();
    /** Per version: the committed transactions whose first view of the key it is. */
    final List<List<Integer>> readers = new ArrayList<>();
    int[] from = new int[4];
    int[] to = new int[4];
    int[] reason = new int[4];
    int[] txnA = new int[4];
    int[] txnB = new int[4];
    int edges;
    boolean cyclic;

    Key() {
      id(NIL);
    }

    int id(Object value) {
      Object version = value == null ? NIL : value;
      Integer id = ids.get(version);
      if (id == null) {
        id = values.size();
        ids.put(version, id);
        values.add(value);
        writer.add(-1);
        readers.add(new ArrayList<>());
      }
      return id;
    }

    void edge(int v1, int v2, int why, int a, int b) {
      if (v1 == v2) {
        return;
      }
      if (edges == from.length) {
        from = Arrays.copyOf(from, edges * 2);
        to = Arrays.copyOf(to, edges * 2);
        reason = Arrays.copyOf(reason, edges * 2);
        txnA = Arrays.copyOf(txnA, edges * 2);
        txnB = Arrays.copyOf(txnB, edges * 2);
      }
      from[edges] = v1;
      to[edges] = v2;
      reason[edges] = why;
      txnA[edges] = a;
      txnB[edges] = b;
      edges++;
    }
  }

  private final Transactions txns;
  private final Findings findings;
  private final Key[] keys;
  /** Per micro-op: the version id of a transaction's first view of a key (a read), or -1. */
  private final int[] firstRead;

  RwRegisterAnalysis(Transactions txns, Findings findings, ElleOptions options) {
    this.txns = txns;
    this.findings = findings;
    this.keys = new Key[txns.keys.size()];
    this.firstRead = new int[txns.mopF.length];
    Arrays.fill(firstRead, -1);
    for (int k = 0; k < keys.length; k++) {
      keys[k] = new Key();
    }
    indexWrites();
    checkTransactions();
    if (options.sequentialKeys()) {
      addSequentialOrder();
    }
    if (options.linearizableKeys()) {
      addLinearizableOrder();
    }
    for (int k = 0; k < keys.length; k++) {
      addInitialEdges(keys[k]);
      checkVersionGraph(k);
    }
  }

  private void indexWrites() {
    for (int t = 0; t < txns.count; t++) {
      int end = txns.mopStart[t + 1];
      for (int m = txns.mopStart[t]; m < end; m++) {
        if (txns.mopF[m] != Transactions.WRITE) {
          continue;
        }
        int k = txns.mopKey[m];
        boolean last = true;
        for (int later = m + 1; later < end && last; later++) {
          last = txns.mopF[later] != Transactions.WRITE || txns.mopKey[later] != k;
        }
        Key key = keys[k];
        int v = key.id(txns.mopValue[m]);
        if (key.writer.get(v) >= 0) {
          throw new HistoryFormatException(txns.invokeIndex(t), "value "
              + Values.format(txns.mopValue[m]) + " is written to key " + keyName(k)
              + " again (first by op " + txns.invokeIndex(key.writer.get(v) >> 1)
              + "); rw-register needs each value written at most once per key");
        }
        key.writer.set(v, t << 1 | (last ? 1 : 0));
      }
    }
  }

  /** Internal consistency, first reads, in-transaction order, and the read anomalies. */
  private void checkTransactions() {
    Map<Long, Integer> updaters = new HashMap<>();
    for (int t = 0; t < txns.count; t++) {
      if (!txns.committed(t)) {
        continue;
      }
      int start = txns.mopStart[t];
      int end = txns.mopStart[t + 1];
      for (int m = start; m < end; m++) {
        int k = txns.mopKey[m];
        int previous = previousOnKey(t, m);
        if (txns.mopF[m] == Transactions.WRITE) {
          if (previous >= 0) {
            keys[k].edge(keys[k].id(txns.mopValue[previous]), keys[k].id(txns.mopValue[m]),
                IN_TRANSACTION, t, t);
          }
          continue;
        }
        Object read = txns.mopValue[m];
        if (previous >= 0) {
          if (!Objects.equals(read, txns.mopValue[previous])) {
            String before = txns.mopF[previous] == Transactions.WRITE ? "wrote" : "read";
            Object earlier = txns.mopValue[previous];
            findings.add(AnomalyType.INTERNAL, txns.keys.get(k), () -> "T1 read key "
                + keyName(k) + " = " + Values.format(read) + " but had " + before + " "
                + Values.format(earlier) + " before", t);
          }
          continue;
        }
        int v = keys[k].id(read);
        firstRead[m] = v;
        keys[k].readers.get(v).add(t);
        checkRead(t, k, read, v);
        if (writesLater(t, m, k)) {
          Integer other = updaters.putIfAbsent((long) k << 32 | v, t);
          if (other != null) {
            int first = other;
            findings.add(AnomalyType.LOST_UPDATE, txns.keys.get(k), () -> "T1 and T2 both "
                + "read key " + keyName(k) + " = " + Values.format(read)
                + " and both wrote it", first, t);
          }
        }
      }
    }
  }

  /** Garbage, aborted and intermediate reads. */
  private void checkRead(int t, int k, Object read, int v) {
    if (read == null) {
      return;
    }
    int writer = keys[k].writer.get(v);
    if (writer < 0) {
      findings.add(AnomalyType.GARBAGE_READ, txns.keys.get(k), () -> "T1 read key "
          + keyName(k) + " = " + Values.format(read) + ", but no transaction wrote it", t);
    } else if (txns.failed(writer >> 1)) {
      findings.add(AnomalyType.G1A, txns.keys.get(k), () -> "T1 read key " + keyName(k)
          + " = " + Values.format(read) + ", which T2 wrote, but T2 failed", t, writer >> 1);
    } else if ((writer & 1) == 0 && writer >> 1 != t) {
      findings.add(AnomalyType.G1B, txns.keys.get(k), () -> "T1 read key " + keyName(k)
          + " = " + Values.format(read) + ", which T2 wrote but then overwrote in the same "
          + "transaction", t, writer >> 1);
    }
  }

  private int previousOnKey(int t, int m) {
    for (int j = m - 1; j >= txns.mopStart[t]; j--) {
      if (txns.mopKey[j] == txns.mopKey[m]) {
        return j;
      }
    }
    return -1;
  }

  private boolean writesLater(int t, int m, int k) {
    for (int j = m + 1; j < txns.mopStart[t + 1]; j++) {
      if (txns.mopKey[j] == k && txns.mopF[j] == Transactions.WRITE) {
        return true;
      }
    }
    return false;
  }

  /** The version through which transaction {@code t} first sees key {@code k}, or -1. */
  private int firstVersion(int t, int k) {
    for (int m = txns.mopStart[t]; m < txns.mopStart[t + 1]; m++) {
      if (txns.mopKey[m] == k) {
        return keys[k].id(txns.mopValue[m]);
      }
    }
    return -1;
  }

  /** The version transaction {@code t} leaves key {@code k} in: its last write, or its read. */
  private int lastVersion(int t, int k) {
    int version = -1;
    for (int m = txns.mopStart[t]; m < txns.mopStart[t + 1]; m++) {
      if (txns.mopKey[m] == k && (version < 0 || txns.mopF[m] == Transactions.WRITE)) {
        version = keys[k].id(txns.mopValue[m]);
      }
    }
    return version;
  }

  private void addSequentialOrder() {
    Map<Long, Integer> lastTxn = new HashMap<>();
    for (int t = 0; t < txns.count; t++) {
      if (!txns.committed(t)) {
        continue;
      }
      long process = txns.operation[t].process();
      for (int k : keysOf(t)) {
        Integer before = lastTxn.put(process * 1_000_003L + k, t);
        if (before != null) {
          keys[k].edge(lastVersion(before, k), firstVersion(t, k), SEQUENTIAL, before, t);
        }
      }
    }
  }

  /** Per key, the same real-time frontier as {@link OrderEdges}. */
  private void addLinearizableOrder() {
    List<List<Integer>> frontier = new ArrayList<>();
    for (int k = 0; k < keys.length; k++) {
      frontier.add(new ArrayList<>());
    }
    Map<Long, List<Integer>> before = new HashMap<>();
    for (long event : OrderEdges.events(txns)) {
      int t = (int) (event >>> 1);
      if (!txns.committed(t)) {
        continue;
      }
      for (int k : keysOf(t)) {
        List<Integer> members = frontier.get(k);
        if ((event & 1) == 0) {
          for (int f : members) {
            keys[k].edge(lastVersion(f, k), firstVersion(t, k), LINEARIZABLE, f, t);
          }
          before.put((long) t << 32 | k, new ArrayList<>(members));
        } else {
          members.removeAll(before.remove((long) t << 32 | k));
          members.add(t);
        }
      }
    }
  }

  private int[] keysOf(int t) {
    return Arrays.stream(txns.mopKey, txns.mopStart[t], txns.mopStart[t + 1])
        .distinct().toArray();
  }

  /** nil precedes every version that nothing else precedes (enough for reachability). */
  private static void addInitialEdges(Key key) {
    boolean[] hasPredecessor = new boolean[key.values.size()];
    for (int e = 0; e < key.edges; e++) {
      hasPredecessor[key.to[e]] = true;
    }
    for (int v = 1; v < key.values.size(); v++) {
      if (!hasPredecessor[v]) {
        key.edge(0, v, INITIAL, -1, -1);
      }
    }
  }

  /** Kahn's algorithm; what it cannot order lies on or behind a cycle. */
  private void checkVersionGraph(int k) {
    Key key = keys[k];
    int n = key.values.size();
    int[] inDegree = new int[n];
    for (int e = 0; e < key.edges; e++) {
      inDegree[key.to[e]]++;
    }
    ArrayDeque<Integer> ready = new ArrayDeque<>();
    for (int v = 0; v < n; v++) {
      if (inDegree[v] == 0) {
        ready.add(v);
      }
    }
    int ordered = 0;
    while (!ready.isEmpty()) {
      int v = ready.poll();
      ordered++;
      for (int e = 0; e < key.edges; e++) {
        if (key.from[e] == v && --inDegree[key.to[e]] == 0) {
          ready.add(key.to[e]);
        }
      }
    }
    if (ordered < n) {
      key.cyclic = true;
      findings.add(AnomalyType.CYCLIC_VERSIONS, txns.keys.get(k),
          () -> "key " + keyName(k) + " has versions that must each precede the other: "
              + versionCycle(key, inDegree));
    }
  }

  private String versionCycle(Key key, int[] inDegree) {
    // Walk backwards along edges between unordered versions until one repeats.
    int v = 0;
    while (inDegree[v] == 0) {
      v++;
    }
    List<Integer> path = new ArrayList<>();
    List<Integer> via = new ArrayList<>();
    while (!path.contains(v)) {
      path.add(v);
      for (int e = 0; e < key.edges; e++) {
        if (key.to[e] == v && inDegree[key.from[e]] > 0) {
          via.add(e);
          v = key.from[e];
          break;
        }
      }
    }
    StringBuilder out = new StringBuilder();
    for (int i = path.indexOf(v); i < via.size(); i++) {
      int e = via.get(i);
      out.append(out.length() == 0 ? "" : "; ").append(Values.format(key.values.get(key.from[e])))
          .append(" < ").append(Values.format(key.values.get(key.to[e]))).append(' ')
          .append(reason(key, e));
    }
    return out.toString();
  }

  void addEdges(DependencyGraph.Builder graph) {
    for (int k = 0; k < keys.length; k++) {
      Key key = keys[k];
      if (key.cyclic) {
        continue;
      }
      for (int v = 1; v < key.values.size(); v++) {
        int writer = liveWriter(key, v);
        for (int reader : key.readers.get(v)) {
          if (writer >= 0) {
            graph.add(writer, reader, DependencyKind.WR);
          }
        }
      }
      for (int e = 0; e < key.edges; e++) {
        int next = liveWriter(key, key.to[e]);
        int previous = key.from[e] == 0 ? -1 : liveWriter(key, key.from[e]);
        if (next < 0) {
          continue;
        }
        if (previous >= 0) {
          graph.add(previous, next, DependencyKind.WW);
        }
        for (int reader : key.readers.get(key.from[e])) {
          graph.add(reader, next, DependencyKind.RW);
        }
      }
      reportDirtyUpdates(k);
    }
  }

  private void reportDirtyUpdates(int keyId) {
    Key key = keys[keyId];
    for (int e = 0; e < key.edges; e++) {
      int before = key.writer.get(key.from[e]);
      int after = liveWriter(key, key.to[e]);
      if (key.from[e] != 0 && before >= 0 && txns.failed(before >> 1) && after >= 0) {
        int edge = e;
        Object k = txns.keys.get(keyId);
        findings.add(AnomalyType.DIRTY_UPDATE, k, () -> "T1 wrote key " + Values.format(k)
            + " = " + Values.format(key.values.get(key.to[edge])) + " after "
            + Values.format(key.values.get(key.from[edge])) + ", which T2 wrote and then "
            + "failed " + reason(key, edge), after, before >> 1);
      }
    }
  }

  private int liveWriter(Key key, int v) {
    int writer = key.writer.get(v);
    return writer < 0 || txns.failed(writer >> 1) ? -1 : writer >> 1;
  }

  private String reason(Key key, int e) {
    Object v1 = key.values.get(key.from[e]);
    Object v2 = key.values.get(key.to[e]);
    switch (key.reason[e]) {
      case INITIAL:
        return "(every version follows the initial nil)";
      case IN_TRANSACTION:
        return "(op " + txns.invokeIndex(key.txnA[e]) + " saw " + Values.format(v1)
            + ", then wrote " + Values.format(v2) + ")";
      case SEQUENTIAL:
        return "(process " + txns.operation[key.txnA[e]].process() + " saw "
            + Values.format(v1) + " in op " + txns.invokeIndex(key.txnA[e]) + ", then "
            + Values.format(v2) + " in op " + txns.invokeIndex(key.txnB[e])
            + "; keys are sequential)";
      default:
        return "(op " + txns.invokeIndex(key.txnA[e]) + ", which left " + Values.format(v1)
            + ", completed before op " + txns.invokeIndex(key.txnB[e]) + ", which saw "
            + Values.format(v2) + ", began; keys are linearizable)";
    }
  }

  @Override
  public String why(int from, int to, DependencyKind kind, String fromName, String toName) {
    for (int k = 0; k < keys.length; k++) {
      Key key = keys[k];
      if (key.cyclic) {
        continue;
      }
      if (kind == DependencyKind.WR) {
        for (int v = 1; v < key.values.size(); v++) {
          if (liveWriter(key, v) == from && key.readers.get(v).contains(to)) {
            return toName + " read key " + keyName(k) + " = " + Values.format(key.values.get(v))
                + ", which " + fromName + " wrote";
          }
        }
        continue;
      }
      for (int e = 0; e < key.edges; e++) {
        if (liveWriter(key, key.to[e]) != to) {
          continue;
        }
        Object v1 = key.values.get(key.from[e]);
        Object v2 = key.values.get(key.to[e]);
        if (kind == DependencyKind.WW && key.from[e] != 0
            && liveWriter(key, key.from[e]) == from) {
          return fromName + " wrote key " + keyName(k) + " = " + Values.format(v1) + " and "
              + toName + " wrote " + Values.format(v2) + ", a later version "
              + reason(key, e);
        }
        if (kind == DependencyKind.RW && key.readers.get(key.from[e]).contains(from)) {
          return fromName + " read key " + keyName(k) + " = " + Values.format(v1) + " and "
              + toName + " wrote " + Values.format(v2) + ", a later version " + reason(key, e);
        }
      }
    }
    throw new IllegalStateException("no reason for edge " + from + " " + kind + " " + to);
  }

  private String keyName(int k) {
    return Values.format(txns.keys.get(k));
  }
}
