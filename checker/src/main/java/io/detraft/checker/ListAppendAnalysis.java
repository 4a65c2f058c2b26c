package io.detraft.checker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The list-append half of Elle (section 5.1 of the paper): each element is appended to a
 * key at most once, so a read of a list names the writer of every element in it, and the
 * order of its elements is the order of their versions.
 *
 * <p>A key's version order is its longest committed read; every other read must be a prefix
 * of it (else incompatible-order). From it: consecutive elements give ww edges between their
 * writers; a read whose last element T1 appended gives T1 wr-> reader; a read followed in the
 * version order by an element T2 appended gives reader rw-> T2. Only a transaction's first
 * read of a key counts (minus its own appends before it): later reads are checked against it
 * for internal consistency instead, as Elle does.
 *
 * <p>A committed append that no read observes still has a place: lists only grow and
 * elements are unique, so it comes after the whole longest read (after the initial empty list
 * if the key was only read empty), in an order nobody saw. So its writer gets a ww edge from
 * the writer of the version order's last element, and every read of the whole version order
 * an rw edge to it. Without these, write skew through empty reads, or a stale read of an
 * append nobody else read, would pass. Appends of info transactions get a place only if a
 * read holds one of them: otherwise they may never have happened.
 */
final class ListAppendAnalysis implements Findings.EdgeExplainer {
  private final Transactions txns;
  private final Findings findings;
  /** Per key: element -> {@code writer << 1 | 1 if it is the writer's last append to the key}. */
  private final Map<Object, Integer>[] writers;
  /** Per key: the longest committed read, or null if the key was never read. */
  private final List<?>[] order;
  /** Per key: the transaction that read {@link #order}. */
  private final int[] orderReader;
  /** Per key: its version order holds an element twice, so it yields no edges. */
  private final boolean[] corrupt;
  /** Per key: element -> its first position in {@link #order}. */
  private final Map<Object, Integer>[] position;
  /**
   * Per micro-op: for a transaction's first read of a key that is a prefix of the version
   * order and internally consistent, how many of its elements others appended; else -1.
   */
  private final int[] external;
  /** Per key: the elements committed transactions appended that no read holds; or null. */
  private final List<Object>[] unobserved;

  @SuppressWarnings("unchecked")
  ListAppendAnalysis(Transactions txns, Findings findings) {
    this.txns = txns;
    this.findings = findings;
    int keys = txns.keys.size();
    this.writers = new Map[keys];
    this.order = new List<?>[keys];
    this.position = new Map[keys];
    this.orderReader = new int[keys];
    this.corrupt = new boolean[keys];
    this.external = new int[txns.mopF.length];
    this.unobserved = new List[keys];
    for (int k = 0; k < keys; k++) {
      writers[k] = new HashMap<>();
      position[k] = new HashMap<>();
    }
    indexAppends();
    inferVersionOrders();
    placeUnobservedAppends();
    checkReads();
    checkVersionOrders();
  }

  private void indexAppends() {
    for (int t = 0; t < txns.count; t++) {
      int end = txns.mopStart[t + 1];
      for (int m = txns.mopStart[t]; m < end; m++) {
        if (txns.mopF[m] != Transactions.WRITE) {
          continue;
        }
        int key = txns.mopKey[m];
        boolean last = true;
        for (int later = m + 1; later < end && last; later++) {
          last = txns.mopF[later] != Transactions.WRITE || txns.mopKey[later] != key;
        }
        Integer previous = writers[key].put(txns.mopValue[m], t << 1 | (last ? 1 : 0));
        if (previous != null) {
          throw new HistoryFormatException(txns.invokeIndex(t), "element "
              + Values.format(txns.mopValue[m]) + " is appended to key " + keyName(key)
              + " again (first by op " + txns.invokeIndex(previous >> 1) + "); list-append "
              + "needs each element appended at most once per key");
        }
      }
    }
  }

  private void inferVersionOrders() {
    for (int t = 0; t < txns.count; t++) {
      if (!txns.committed(t)) {
        continue;
      }
      for (int m = txns.mopStart[t]; m < txns.mopStart[t + 1]; m++) {
        if (txns.mopF[m] == Transactions.READ) {
          List<?> read = (List<?>) txns.mopValue[m];
          int key = txns.mopKey[m];
          if (order[key] == null || read.size() > order[key].size()) {
            order[key] = read;
            orderReader[key] = t;
          }
        }
      }
    }
    for (int key = 0; key < order.length; key++) {
      if (order[key] == null) {
        continue;
      }
      for (int p = 0; p < order[key].size(); p++) {
        position[key].putIfAbsent(order[key].get(p), p);
      }
      corrupt[key] = position[key].size() < order[key].size();
    }
  }

  /** Fills {@link #unobserved}, in append order, for the keys that were read. */
  private void placeUnobservedAppends() {
    for (int t = 0; t < txns.count; t++) {
      if (!txns.committed(t) && !(!txns.failed(t) && anyAppendObserved(t))) {
        continue;
      }
      for (int m = txns.mopStart[t]; m < txns.mopStart[t + 1]; m++) {
        int key = txns.mopKey[m];
        if (txns.mopF[m] != Transactions.WRITE || order[key] == null
            || position[key].containsKey(txns.mopValue[m])) {
          continue;
        }
        if (unobserved[key] == null) {
          unobserved[key] = new ArrayList<>();
        }
        unobserved[key].add(txns.mopValue[m]);
      }
    }
  }

  /**
   * Whether a read holds one of the transaction's appends: an info transaction then took
   * effect, and (atomically, as every model that prohibits a cycle demands) so did its other
   * appends, which must then be placed like those of committed ones.
   */
  private boolean anyAppendObserved(int t) {
    for (int m = txns.mopStart[t]; m < txns.mopStart[t + 1]; m++) {
      if (txns.mopF[m] == Transactions.WRITE
          && position[txns.mopKey[m]].containsKey(txns.mopValue[m])) {
        return true;
      }
    }
    return false;
  }

  /** Per read: prefix of the version order, duplicates, G1b, internal consistency. */
  private void checkReads() {
    for (int t = 0; t < txns.count; t++) {
      int start = txns.mopStart[t];
      int end = txns.mopStart[t + 1];
      for (int m = start; m < end; m++) {
        external[m] = -1;
        if (!txns.committed(t) || txns.mopF[m] != Transactions.READ) {
          continue;
        }
        int key = txns.mopKey[m];
        List<?> read = (List<?>) txns.mopValue[m];
        boolean prefix = isPrefix(read, order[key]);
        if (!prefix) {
          int txn = t;
          findings.add(AnomalyType.INCOMPATIBLE_ORDER, txns.keys.get(key), () -> "T1 read key "
              + keyName(key) + " = " + Findings.shortList(read) + " but T2 read "
              + Findings.shortList(order[key]) + ": neither is a prefix of the other",
              txn, orderReader[key]);
          checkElements(t, key, read);
        } else if (read == order[key] && corrupt[key]) {
          checkElements(t, key, read);
        }
        checkIntermediate(t, key, read);
        int ownBefore = checkInternal(t, m);
        if (prefix && ownBefore >= 0) {
          external[m] = read.size() - ownBefore;
        }
      }
    }
  }

  /** Duplicates and, for a read off the version order, garbage and aborted elements. */
  private void checkElements(int reader, int key, List<?> read) {
    Set<Object> seen = new HashSet<>();
    for (Object element : read) {
      if (!seen.add(element)) {
        findings.add(AnomalyType.DUPLICATE_ELEMENTS, txns.keys.get(key), () -> "T1 read key "
            + keyName(key) + " = " + Findings.shortList(read) + ", which holds "
            + Values.format(element) + " twice", reader);
      }
    }
    if (read != order[key]) {
      for (Object element : seen) {
        checkWriter(reader, key, read, element);
      }
    }
  }

  /** G1b: the last element read is not the last its writer appended to the key. */
  private void checkIntermediate(int reader, int key, List<?> read) {
    if (read.isEmpty()) {
      return;
    }
    Object last = read.get(read.size() - 1);
    Integer writer = writers[key].get(last);
    if (writer == null || (writer & 1) == 1 || writer >> 1 == reader) {
      return;
    }
    findings.add(AnomalyType.G1B, txns.keys.get(key), () -> "T1 read key " + keyName(key)
        + " = " + Findings.shortList(read) + ", ending in T2's append of "
        + Values.format(last) + ", but T2 appended more to key " + keyName(key)
        + " after it", reader, writer >> 1);
  }

  /**
   * Checks a read against the transaction's earlier micro-ops on the same key: after an
   * earlier read it must be that read plus the appends since; without one it must end with
   * the transaction's appends so far; it must not hold an element the transaction appends
   * only later. Returns how many of its own appends precede it if it is the transaction's
   * first read of the key and consistent, else -1.
   */
  private int checkInternal(int t, int m) {
    int key = txns.mopKey[m];
    List<?> read = (List<?>) txns.mopValue[m];
    int start = txns.mopStart[t];
    int previousRead = -1;
    for (int j = m - 1; j >= start && previousRead < 0; j--) {
      if (txns.mopKey[j] == key && txns.mopF[j] == Transactions.READ) {
        previousRead = j;
      }
    }
    List<Object> appendsSince = new ArrayList<>();
    for (int j = Math.max(previousRead + 1, start); j < m; j++) {
      if (txns.mopKey[j] == key && txns.mopF[j] == Transactions.WRITE) {
        appendsSince.add(txns.mopValue[j]);
      }
    }
    String problem = null;
    if (previousRead >= 0) {
      List<Object> expected = new ArrayList<>((List<?>) txns.mopValue[previousRead]);
      expected.addAll(appendsSince);
      if (!expected.equals(read)) {
        problem = "but its earlier read and its appends since imply "
            + Findings.shortList(expected);
      }
    } else if (read.size() < appendsSince.size()
        || !read.subList(read.size() - appendsSince.size(), read.size()).equals(appendsSince)) {
      problem = "but it had appended " + Values.format(appendsSince) + " to it before";
    }
    for (int j = m + 1; j < txns.mopStart[t + 1] && problem == null; j++) {
      if (txns.mopKey[j] == key && txns.mopF[j] == Transactions.WRITE
          && read.contains(txns.mopValue[j])) {
        problem = "which holds " + Values.format(txns.mopValue[j])
            + ", an element it appends only later";
      }
    }
    if (problem != null) {
      String why = problem;
      findings.add(AnomalyType.INTERNAL, txns.keys.get(key), () -> "T1 read key "
          + keyName(key) + " = " + Findings.shortList(read) + ", " + why, t);
      return -1;
    }
    return previousRead >= 0 ? -1 : appendsSince.size();
  }

  /** Garbage, aborted reads and dirty updates along each key's version order. */
  private void checkVersionOrders() {
    for (int k = 0; k < order.length; k++) {
      int key = k;
      List<?> versions = order[key];
      if (versions == null) {
        continue;
      }
      int reader = orderReader[key];
      for (int p = 0; p < versions.size(); p++) {
        Object element = versions.get(p);
        Integer writer = checkWriter(reader, key, versions, element);
        if (p > 0 && writer != null && !txns.failed(writer >> 1)) {
          Integer before = writers[key].get(versions.get(p - 1));
          if (before != null && txns.failed(before >> 1)) {
            Object previous = versions.get(p - 1);
            findings.add(AnomalyType.DIRTY_UPDATE, txns.keys.get(key), () -> "key "
                + keyName(key) + " reads " + Findings.shortList(versions) + ": T1 appended "
                + Values.format(element) + " right after " + Values.format(previous)
                + ", which T2 appended and then failed", writer >> 1, before >> 1);
          }
        }
      }
    }
  }

  /** Reports a read element nobody appended, or that a failed transaction appended. */
  private Integer checkWriter(int reader, int key, List<?> read, Object element) {
    Integer writer = writers[key].get(element);
    if (writer == null) {
      findings.add(AnomalyType.GARBAGE_READ, txns.keys.get(key), () -> "T1 read key "
          + keyName(key) + " = " + Findings.shortList(read) + ", but no transaction appended "
          + Values.format(element) + " to it", reader);
    } else if (txns.failed(writer >> 1)) {
      findings.add(AnomalyType.G1A, txns.keys.get(key), () -> "T1 read key " + keyName(key)
          + " = " + Findings.shortList(read) + ", holding " + Values.format(element)
          + ", which T2 appended, but T2 failed", reader, writer >> 1);
    }
    return writer;
  }

  private static boolean isPrefix(List<?> read, List<?> longest) {
    if (read == longest) {
      return true;
    }
    if (read.size() > longest.size()) {
      return false;
    }
    for (int i = 0; i < read.size(); i++) {
      if (!read.get(i).equals(longest.get(i))) {
        return false;
      }
    }
    return true;
  }

  /** Adds the ww, wr and rw edges. */
  void addEdges(DependencyGraph.Builder graph) {
    for (int key = 0; key < order.length; key++) {
      List<?> versions = corrupt[key] ? null : order[key];
      for (int p = 1; versions != null && p < versions.size(); p++) {
        int before = liveWriter(key, versions.get(p - 1));
        int after = liveWriter(key, versions.get(p));
        if (before >= 0 && after >= 0) {
          graph.add(before, after, DependencyKind.WW);
        }
      }
    }
    for (int t = 0; t < txns.count; t++) {
      for (int m = txns.mopStart[t]; m < txns.mopStart[t + 1]; m++) {
        int seen = external[m];
        if (seen < 0 || corrupt[txns.mopKey[m]]) {
          continue;
        }
        List<?> versions = order[txns.mopKey[m]];
        if (seen > 0) {
          int writer = liveWriter(txns.mopKey[m], versions.get(seen - 1));
          if (writer >= 0) {
            graph.add(writer, t, DependencyKind.WR);
          }
        }
        if (seen < versions.size()) {
          int writer = liveWriter(txns.mopKey[m], versions.get(seen));
          if (writer >= 0) {
            graph.add(t, writer, DependencyKind.RW);
          }
        } else if (unobserved[txns.mopKey[m]] != null) {
          for (Object element : unobserved[txns.mopKey[m]]) {
            graph.add(t, writers[txns.mopKey[m]].get(element) >> 1, DependencyKind.RW);
          }
        }
      }
    }
    for (int key = 0; key < order.length; key++) {
      if (corrupt[key] || unobserved[key] == null || order[key].isEmpty()) {
        continue;
      }
      int last = liveWriter(key, order[key].get(order[key].size() - 1));
      for (Object element : unobserved[key]) {
        if (last >= 0) {
          graph.add(last, writers[key].get(element) >> 1, DependencyKind.WW);
        }
      }
    }
  }

  /** The writer of an element if it may have committed; -1 for garbage or a failed writer. */
  private int liveWriter(int key, Object element) {
    Integer writer = writers[key].get(element);
    return writer == null || txns.failed(writer >> 1) ? -1 : writer >> 1;
  }

  @Override
  public String why(int from, int to, DependencyKind kind, String fromName, String toName) {
    switch (kind) {
      case WW:
        for (int m = txns.mopStart[to]; m < txns.mopStart[to + 1]; m++) {
          int key = txns.mopKey[m];
          Integer p = txns.mopF[m] == Transactions.WRITE ? position[key].get(txns.mopValue[m])
              : null;
          if (p != null && p > 0 && liveWriter(key, order[key].get(p - 1)) == from) {
            return toName + " appended " + Values.format(txns.mopValue[m]) + " to key "
                + keyName(key) + " right after " + fromName + "'s "
                + Values.format(order[key].get(p - 1)) + " (key " + keyName(key)
                + " reads " + Findings.shortList(order[key].subList(0, p + 1)) + ")";
          }
          if (unobservedAfter(key, m, from)) {
            return toName + " appended " + Values.format(txns.mopValue[m]) + " to key "
                + keyName(key) + ", which no read holds, so it comes after the longest read "
                + Findings.shortList(order[key]) + ", which ends in " + fromName + "'s "
                + Values.format(order[key].get(order[key].size() - 1));
          }
        }
        break;
      case WR:
        for (int m = txns.mopStart[to]; m < txns.mopStart[to + 1]; m++) {
          int key = txns.mopKey[m];
          if (external[m] > 0 && liveWriter(key, order[key].get(external[m] - 1)) == from) {
            return toName + " read key " + keyName(key) + " = "
                + Findings.shortList((List<?>) txns.mopValue[m]) + ", seeing " + fromName
                + "'s append of " + Values.format(order[key].get(external[m] - 1));
          }
        }
        break;
      case RW:
        for (int m = txns.mopStart[from]; m < txns.mopStart[from + 1]; m++) {
          int key = txns.mopKey[m];
          int seen = external[m];
          if (seen >= 0 && seen < order[key].size()
              && liveWriter(key, order[key].get(seen)) == to) {
            return fromName + " read key " + keyName(key) + " = "
                + Findings.shortList((List<?>) txns.mopValue[m]) + " before " + toName
                + " appended " + Values.format(order[key].get(seen));
          }
          if (seen >= 0 && seen == order[key].size() && unobserved[key] != null) {
            for (Object element : unobserved[key]) {
              if (writers[key].get(element) >> 1 == to) {
                return fromName + " read key " + keyName(key) + " = "
                    + Findings.shortList((List<?>) txns.mopValue[m]) + ", missing " + toName
                    + "'s committed append of " + Values.format(element)
                    + ", which no read holds, so it came after";
              }
            }
          }
        }
        break;
      default:
        break;
    }
    throw new IllegalStateException("no reason for edge " + from + " " + kind + " " + to);
  }

  /** Whether micro-op {@code m} is an unobserved append placed after {@code from}'s. */
  private boolean unobservedAfter(int key, int m, int from) {
    return txns.mopF[m] == Transactions.WRITE && unobserved[key] != null
        && !order[key].isEmpty() && !position[key].containsKey(txns.mopValue[m])
        && liveWriter(key, order[key].get(order[key].size() - 1)) == from;
  }

  private String keyName(int key) {
    return Values.format(txns.keys.get(key));
  }
}
